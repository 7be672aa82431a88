/** Builds the fake libnvidia-ml.so.1 (full and legacy variants) and writes its configuration. */
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildFakeNvmlVariants } from '../fixtures/fake-nvml/build.mjs';

/** Compiles both variants with the system compiler (when missing or older than the sources). */
export function buildFakeNvml(): { full: string; legacy: string } {
  return buildFakeNvmlVariants();
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
