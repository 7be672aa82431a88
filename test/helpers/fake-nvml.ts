/** Builds the fake libnvidia-ml.so.1 (full and legacy variants) and writes its configuration. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/fake-nvml');
const sources = ['fake_nvml.c', 'json.c', 'json.h'].map((f) => path.join(dir, f));

/** Compiles both variants with the system compiler (when missing or older than the sources). */
export function buildFakeNvml(): { full: string; legacy: string } {
  const out = {
    full: path.join(dir, 'build/full/libnvidia-ml.so.1'),
    legacy: path.join(dir, 'build/legacy/libnvidia-ml.so.1'),
  };
  const newest = Math.max(...sources.map((s) => statSync(s).mtimeMs));
  for (const [variant, lib] of Object.entries(out)) {
    if (existsSync(lib) && statSync(lib).mtimeMs > newest) continue;
    mkdirSync(path.dirname(lib), { recursive: true });
    const args = [
      '-O2',
      '-shared',
      '-fPIC',
      '-fvisibility=hidden',
      '-Wall',
      '-o',
      lib,
      sources[0],
      sources[1],
      '-lpthread',
    ];
    if (variant === 'legacy') args.unshift('-DFAKE_LEGACY');
    execFileSync(process.env.CC ?? 'cc', args, { stdio: 'inherit' });
  }
  return out;
}

export interface FakeGpu {
  uuid?: string;
  name?: string;
  utilGpu?: number;
  utilMem?: number;
  memTotal?: number;
  memUsed?: number;
  temp?: number;
  tempSlowdown?: number;
  tempShutdown?: number;
  powerMw?: number;
  reasons?: number;
  eccUncVol?: number;
  retiredSbe?: number;
  retiredDbe?: number;
  retiredPending?: number;
  remapPending?: number;
  remapFailure?: number;
  pcieReplay?: number;
  recoveryAction?: number;
  processes?: { pid: number; usedMemory: number | null }[];
  processStride?: number;
  returns?: Record<string, string>;
  delays?: Record<string, number>;
  lost?: boolean;
  [k: string]: unknown;
}

export interface FakeConfig {
  driverVersion?: string;
  initDelayMs?: number;
  initReturn?: string;
  returns?: Record<string, string>;
  delays?: Record<string, number>;
  devices: FakeGpu[];
  events?: { id: number; gpu: number; xid?: number; type?: number }[];
}

/** A configuration file the fake re-reads when it changes; `write` replaces it atomically. */
export class FakeNvmlConfig {
  readonly path: string;
  private seq = 0;
  constructor(public config: FakeConfig) {
    this.path = path.join(mkdtempSync(path.join(tmpdir(), 'ovn-fake-nvml-')), 'config.json');
    this.write();
  }
  write(next?: FakeConfig): void {
    if (next) this.config = next;
    const tmp = `${this.path}.${++this.seq}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.config));
    renameSync(tmp, this.path);
  }
  /** Appends an Xid event for a GPU. */
  injectXid(gpu: number, xid: number): void {
    const events = this.config.events ?? [];
    events.push({ id: events.length + 1, gpu, xid, type: 0x8 });
    this.write({ ...this.config, events });
  }
}

/** Points this process at a fake library and config (before the first GPU call). */
export function useFakeNvml(variant: 'full' | 'legacy', config: FakeNvmlConfig): void {
  const libs = buildFakeNvml();
  process.env.OVERNIGHT_NVML_LIBRARY = libs[variant];
  process.env.OVERNIGHT_FAKE_NVML_CONFIG = config.path;
}

export function fakeGpus(n: number, extra: Partial<FakeGpu> = {}): FakeGpu[] {
  return Array.from({ length: n }, (_, i) => ({
    uuid: `GPU-fake-${i}`,
    name: 'Fake H100',
    utilGpu: 10 * i,
    utilMem: 5,
    memTotal: 80 * 2 ** 30,
    memUsed: (i + 1) * 2 ** 30,
    temp: 40 + i,
    ...extra,
  }));
}
