/**
 * The daemon's process settings (src/cli/daemon-tuning.ts): the monitor starts with its V8 flags and
 * capped malloc arenas and says so on its start line; an operator's own --max-opt wins; the flags
 * really stop V8's top tier in this Node; other subcommands keep V8's defaults.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyDaemonV8Flags, DAEMON_V8_FLAGS } from '../../src/cli/daemon-tuning.js';
import { loadNative } from '../../src/native.js';
import { root } from '../helpers/isolated.js';
import { CLI, writeConfig } from '../helpers/mcp.js';

function node(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The monitor's start line (its first JSON line on stderr), after one cycle. */
async function startLine(nodeArgs: string[]): Promise<{ tuning: { v8_flags: string[]; malloc_arenas: number } }> {
  const { file } = writeConfig();
  const r = await node([...nodeArgs, CLI, 'monitor', '--config', file, '--interval', '0.2', '--cycles', '1', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stderr.split('\n')[0]) as { tuning: { v8_flags: string[]; malloc_arenas: number } };
}

describe('the monitor daemon’s process settings', () => {
  it('applies them for `monitor` only, and leaves an operator’s own flag alone', () => {
    const set: string[] = [];
    expect(applyDaemonV8Flags(['serve', '--http', '9000'], [], (f) => set.push(f))).toEqual([]);
    expect(applyDaemonV8Flags(['health', '--nhc'], [], (f) => set.push(f))).toEqual([]);
    expect(set).toEqual([]);
    expect(applyDaemonV8Flags(['--json', 'monitor'], ['--max-opt=4'], (f) => set.push(f))).toEqual([
      '--semi-space-growth-factor=1',
    ]);
    expect(applyDaemonV8Flags(['monitor', '--interval', '1'], [], (f) => set.push(f))).toEqual([...DAEMON_V8_FLAGS]);
    expect(set).toEqual(['--semi-space-growth-factor=1', ...DAEMON_V8_FLAGS]);
  });

  it('the monitor reports them on its start line; node --max-opt given by the operator is kept', async () => {
    const plain = await startLine([]);
    expect(plain.tuning.v8_flags).toEqual([...DAEMON_V8_FLAGS]);
    // glibc here: the arena cap takes effect.
    expect(plain.tuning.malloc_arenas).toBe(1);
    const own = await startLine(['--max-opt=4']);
    expect(own.tuning.v8_flags).toEqual(['--semi-space-growth-factor=1']);
  });

  it('in this Node, the flags set at run time keep a function out of the top tier', async () => {
    // V8's optimisation status bit 6 is "TurboFanned". The same function, with and without the flags.
    const script = (apply: boolean) =>
      `import { applyDaemonV8Flags } from ${JSON.stringify(path.join(root, 'dist/cli/daemon-tuning.js'))};` +
      (apply ? `applyDaemonV8Flags(['monitor'], []);` : '') +
      // Optimised synchronously on request (no background compile to wait for on a loaded machine).
      'function f(i) { return (i ^ (i >> 3)) + 1; } %PrepareFunctionForOptimization(f); f(1); f(2);' +
      '%OptimizeFunctionOnNextCall(f); f(3); console.log(%GetOptimizationStatus(f));';
    const status = async (apply: boolean) => {
      const r = await node(['--allow-natives-syntax', '--input-type=module', '-e', script(apply)]);
      expect(r.code, r.stderr).toBe(0);
      return Number(r.stdout.split(' ')[0]);
    };
    const TURBOFANNED = 1 << 6;
    expect((await status(false)) & TURBOFANNED).toBe(TURBOFANNED);
    expect((await status(true)) & TURBOFANNED).toBe(0);
  });

  it('limitMallocArenas refuses what is not an arena count, naming it', () => {
    const native = loadNative();
    for (const bad of [0, 65, 1.5, Number.NaN, '2'])
      expect(() => native.limitMallocArenas(bad as number)).toThrow(/arenas.*integer from 1 to 64/);
  });
});
