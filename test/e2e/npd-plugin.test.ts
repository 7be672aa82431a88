/**
 * `overnight health --npd` run the way node-problem-detector's custom plugin monitor runs a rule
 * (pkg/custompluginmonitor/plugin/plugin.go): its own process group, killed with SIGKILL at the
 * rule's timeout, stdout read up to 4 KiB, trimmed, cut at max_output_length; exit 0 OK, 1 NonOK,
 * anything else Unknown. And `--nhc`'s "unknown" cases.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildFakeNvml, fakeGpus, FakeNvmlConfig } from '../helpers/fake-nvml.js';
import { root } from '../helpers/isolated.js';
import { CLI, writeConfig } from '../helpers/mcp.js';
import { openDatabase } from '../../src/store/database.js';

interface NpdResult {
  status: 'OK' | 'NonOK' | 'Unknown';
  exitCode: number | null;
  /** What NPD would put into the condition's message. */
  message: string;
  /** The plugin's stdout as written (before NPD trims and cuts it). */
  raw: string;
  killed: boolean;
  ms: number;
}

const example = JSON.parse(
  readFileSync(path.join(root, 'examples/kubernetes/overnight-plugin-monitor.json'), 'utf8'),
) as {
  pluginConfig: { timeout: string; max_output_length: number };
  rules: { path: string; args: string[]; timeout: string }[];
};
const seconds = (d: string) => Number(/^(\d+(?:\.\d+)?)s$/.exec(d)![1]) * 1000;
const groups: number[] = [];

afterEach(() => {
  // NPD leaves what a finished plugin started; a test does not.
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

/** The example's rule with our CLI in place of the installed path, as NPD runs it. */
function runLikeNpd(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = Math.min(seconds(example.rules[0].timeout), seconds(example.pluginConfig.timeout)),
): Promise<NpdResult> {
  const rule = example.rules[0];
  expect(path.basename(rule.args[0])).toBe('overnight.js');
  return new Promise((resolve) => {
    const t0 = performance.now();
    // util.Exec sets Setpgid; detached gives the child its own process group (and session) too.
    const child = spawn(process.execPath, [CLI, ...args], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none', ...env },
    });
    groups.push(child.pid!);
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      process.kill(-child.pid!, 'SIGKILL');
    }, timeoutMs);
    let out = Buffer.alloc(0);
    child.stdout.on('data', (d: Buffer) => {
      if (out.length < 4096) out = Buffer.concat([out, d]).subarray(0, 4096);
    });
    child.stderr.resume();
    child.on('close', (code) => {
      clearTimeout(timer);
      const raw = out.toString('utf8');
      let message = raw.trim();
      if (killed) message = `Timeout when running plugin "${rule.path}": state - signal: killed. output - "${message}"`;
      message = Buffer.from(message).subarray(0, example.pluginConfig.max_output_length).toString('utf8');
      resolve({
        status: code === 0 ? 'OK' : code === 1 ? 'NonOK' : 'Unknown',
        exitCode: code,
        message,
        raw,
        killed,
        ms: performance.now() - t0,
      });
    });
  });
}

/** The plugin's own contract: one line, at most max_output_length bytes (NPD would cut the rest). */
function expectOneShortLine(r: NpdResult): void {
  expect(r.raw.endsWith('\n')).toBe(true);
  expect(r.raw.trimEnd().includes('\n')).toBe(false);
  expect(Buffer.byteLength(r.raw.trimEnd())).toBeLessThanOrEqual(example.pluginConfig.max_output_length);
}

const npdArgs = (config: string, ...extra: string[]) => [...example.rules[0].args.slice(1, -1), config, ...extra];

describe('overnight health --npd under node-problem-detector', () => {
  it('the example rule runs `health --npd --config FILE`', () => {
    expect(example.rules[0].args.slice(1)).toEqual(['health', '--npd', '--config', '/etc/overnight/config.json']);
    expect(seconds(example.pluginConfig.timeout)).toBe(5000);
    expect(example.pluginConfig.max_output_length).toBe(80);
  });

  it('a healthy node: exit 0 (OK), one line', async () => {
    const { file } = writeConfig({ paths: [] });
    // A loaded CI machine may start node slowly: this case is about the verdict, so it gets time.
    const r = await runLikeNpd(npdArgs(file, '--timeout', '60'), {}, 90_000);
    expect(r.killed).toBe(false);
    expect(r.message).toMatch(/^OK (healthy|degraded)/);
    expect(r.status).toBe('OK');
    expectOneShortLine(r);
  }, 120_000);

  it('two lost GPUs: exit 1 (problem), the reason cut to 80 bytes by the plugin itself', async () => {
    const { file } = writeConfig({ paths: [] });
    const fake = new FakeNvmlConfig({ devices: fakeGpus(2).map((g) => ({ ...g, lost: true })) });
    const r = await runLikeNpd(
      npdArgs(file, '--timeout', '60'),
      { OVERNIGHT_NVML_LIBRARY: buildFakeNvml().full, OVERNIGHT_FAKE_NVML_CONFIG: fake.path },
      90_000,
    );
    expect(r.killed).toBe(false);
    expect(r.status).toBe('NonOK');
    expect(r.message).toMatch(/^GPU 0: the driver reports the GPU as lost/);
    // "GPU 0: ...; GPU 1: ..." is longer than 80 bytes: the plugin cuts it, marked, on a character boundary.
    expect(r.raw.trimEnd().endsWith('...')).toBe(true);
    expectOneShortLine(r);
  }, 120_000);

  it("a check that hangs: with the default timeout it answers Unknown (exit 2) before NPD's 5 s kill", async () => {
    const { file } = writeConfig({
      paths: [],
      probes: [{ name: 'hangs', command: ['sleep', '60'], timeoutMs: 60_000 }],
    });
    const r = await runLikeNpd(npdArgs(file));
    expect(r.killed, `killed by the 5 s timeout after ${r.ms.toFixed(0)} ms`).toBe(false);
    expect(r.exitCode).toBe(2);
    expect(r.status).toBe('Unknown');
    expect(r.message).toBe('UNKNOWN health check timed out after 3 s');
    expectOneShortLine(r);
  });

  it('a configuration error: Unknown (exit 2) with the error on stdout, not silence', async () => {
    const { file } = writeConfig({ thresholds: { memory: 80 } });
    const r = await runLikeNpd(npdArgs(file, '--timeout', '60'), {}, 90_000);
    expect(r.exitCode).toBe(2);
    expect(r.message).toMatch(/^UNKNOWN config: invalid .*thresholds\.memory/);
    expectOneShortLine(r);
  }, 120_000);
});

function cli(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' }, timeout: 90_000 },
      (err, stdout) =>
        resolve({
          code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0,
          stdout,
        }),
    );
    groups.push(child.pid!);
  });
}

describe('overnight health --nhc and the plain check', () => {
  it('--nhc: a timeout is unknown (exit 2, not 1) and says so on stdout; a config error goes to stdout', async () => {
    const hang = writeConfig({ paths: [], probes: [{ name: 'hangs', command: ['sleep', '60'], timeoutMs: 60_000 }] });
    const t = await cli(['health', '--nhc', '--timeout', '2', '--config', hang.file]);
    expect(t.code).toBe(2);
    expect(t.stdout).toBe('overnight: UNKNOWN health check timed out after 2 s\n');
    const bad = writeConfig({ monitor: { recovr: 'on' } });
    const c = await cli(['health', '--nhc', '--config', bad.file]);
    expect(c.code).toBe(2);
    expect(c.stdout).toMatch(/^overnight: UNKNOWN config: .*monitor\.recovr: unknown key; did you mean "recover"\?/);
  }, 120_000);

  it('a state directory that cannot be opened is unknown (2) for --npd, --nhc, health; never "problem"', async () => {
    // A regular file where the state directory's parent should be: mkdir fails with ENOTDIR.
    const { dir } = writeConfig({});
    const blocker = path.join(dir, 'not-a-dir');
    writeFileSync(blocker, '');
    const { file } = writeConfig({ stateDir: path.join(blocker, 'state') });
    for (const mode of [['--npd'], ['--nhc'], []]) {
      const r = await cli(['health', ...mode, '--timeout', '60', '--config', file]);
      expect(r.code, mode.join(' ') || 'plain').toBe(2);
      expect(r.stdout).toMatch(/UNKNOWN state: .*ENOTDIR/);
    }
  }, 120_000);

  it('a database another process holds locked is unknown (2) within --timeout, not after a 10 s wait', async () => {
    const { file, dir } = writeConfig({});
    const holder = openDatabase(path.join(dir, 'state'));
    holder.exec('BEGIN EXCLUSIVE');
    try {
      // Killed at 9 s, as NPD would kill it at its rule's timeout: before this fix the check waited 10 s.
      const r = await runLikeNpd(npdArgs(file, '--timeout', '8'), {}, 9000);
      expect(r.killed).toBe(false);
      expect(r.exitCode).toBe(2);
      expect(r.raw).toMatch(/^UNKNOWN state: database is locked\n$/);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  }, 60_000);

  it('plain `health` exits 1 when not healthy, 0 with --exit-zero', async () => {
    // Every filesystem is over a threshold of 1e-9 of its size: degraded at least.
    const { file } = writeConfig({ paths: ['/'], thresholds: { disk: 1e-9 }, hysteresis: { sustainSamples: 1 } });
    const r = await cli(['health', '--check', 'quick', '--timeout', '60', '--config', file]);
    expect(r.stdout).toMatch(/^(degraded|critical): /);
    expect(r.code).toBe(1);
    const z = await cli(['health', '--check', 'quick', '--timeout', '60', '--exit-zero', '--config', file]);
    expect(z.stdout).toMatch(/^(degraded|critical): /);
    expect(z.code).toBe(0);
  }, 120_000);
});
