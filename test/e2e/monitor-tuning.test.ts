/**
 * The daemon's process settings (src/cli/daemon-tuning.ts): the monitor starts with its V8 flag and
 * capped malloc arenas and says so on its start line; an operator's own value wins; the flag set at
 * run time really keeps the young generation at its size in this Node; other subcommands keep V8's
 * defaults. After its first cycle the monitor gives back its start-up pages of the node binary, once,
 * and its log says how much left its RSS.
 */
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyDaemonV8Flags, DAEMON_V8_FLAGS, releaseStartupPages } from '../../src/cli/daemon-tuning.js';
import { loadNative } from '../../src/native.js';
import { execNode, killAll, spawnCommand, waitFor } from '../helpers/children.js';
import { root } from '../helpers/isolated.js';
import { CLI, writeConfig } from '../helpers/mcp.js';

/** The monitor's start line (its first JSON line on stderr), after one cycle. */
async function startLine(nodeArgs: string[]): Promise<{ tuning: { v8_flags: string[]; malloc_arenas: number } }> {
  const { file } = writeConfig();
  const r = await execNode([
    ...nodeArgs,
    CLI,
    'monitor',
    '--config',
    file,
    '--interval',
    '0.2',
    '--cycles',
    '1',
    '--json',
  ]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stderr.split('\n')[0]) as { tuning: { v8_flags: string[]; malloc_arenas: number } };
}

describe('the monitor daemon’s process settings', () => {
  afterEach(killAll);

  it('applies them for `monitor` only, and leaves an operator’s own flag alone (either spelling)', () => {
    const set: string[] = [];
    expect(applyDaemonV8Flags(['serve', '--http', '9000'], [], (f) => set.push(f))).toEqual([]);
    expect(applyDaemonV8Flags(['health', '--nhc'], [], (f) => set.push(f))).toEqual([]);
    expect(set).toEqual([]);
    for (const own of ['--semi-space-growth-factor=2', '--semi_space_growth_factor=2'])
      expect(applyDaemonV8Flags(['--json', 'monitor'], [own], (f) => set.push(f))).toEqual([]);
    expect(set).toEqual([]);
    expect(applyDaemonV8Flags(['monitor', '--interval', '1'], ['--max-old-space-size=64'], (f) => set.push(f))).toEqual(
      [...DAEMON_V8_FLAGS],
    );
    expect(set).toEqual([...DAEMON_V8_FLAGS]);
  });

  it('the monitor reports them on its start line; a flag given to node by the operator is kept', async () => {
    const plain = await startLine([]);
    expect(plain.tuning.v8_flags).toEqual([...DAEMON_V8_FLAGS]);
    // glibc here: the arena cap takes effect.
    expect(plain.tuning.malloc_arenas).toBe(1);
    const own = await startLine(['--semi-space-growth-factor=2']);
    expect(own.tuning.v8_flags).toEqual([]);
  });

  it('in this Node, the flag set at run time keeps the young generation at its size', async () => {
    // The same allocation-heavy loop (rows of a 5,000-process scan, some kept a while), with and without.
    const script = (apply: boolean) =>
      `import v8 from 'node:v8';` +
      `import { applyDaemonV8Flags } from ${JSON.stringify(path.join(root, 'dist/cli/daemon-tuning.js'))};` +
      (apply ? `applyDaemonV8Flags(['monitor'], []);` : '') +
      `const size = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;` +
      'const initial = size(); const keep = [];' +
      'for (let r = 0; r < 300; r++) { const rows = [];' +
      "  for (let i = 0; i < 5000; i++) rows.push({ pid: i, comm: 'p' + i, rss: i * 4096, argv: ['a', String(i)] });" +
      '  keep.push(rows); if (keep.length > 8) keep.shift(); }' +
      'console.log(JSON.stringify({ initial, final: size() }));';
    const run = async (apply: boolean) => {
      const r = await execNode(['--input-type=module', '-e', script(apply)]);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { initial: number; final: number };
    };
    const MiB = 1024 * 1024;
    // V8's default lets it grow to 16 MB per semi-space; with the flag it stays at the first size it
    // commits (both semi-spaces of 1 MB at most).
    const without = await run(false);
    expect(without.final).toBeGreaterThanOrEqual(8 * MiB);
    const withFlag = await run(true);
    expect(withFlag.final).toBeLessThanOrEqual(2 * MiB);
  });

  it('limitMallocArenas refuses what is not an arena count, naming it', () => {
    const native = loadNative();
    for (const bad of [0, 65, 1.5, Number.NaN, '2'])
      expect(() => native.limitMallocArenas(bad as number)).toThrow(/arenas.*integer from 1 to 64/);
  });

  it('releaseStartupPages reports what left the RSS; a failing release is harmless', async () => {
    const r = await releaseStartupPages();
    expect(r).not.toBeNull();
    expect(r!.areas).toBeGreaterThan(0);
    expect(r!.released_kb).toBeGreaterThan(0);
    expect(r!.rss_after_kb).toBeLessThan(r!.rss_before_kb);
    expect(await releaseStartupPages(() => Promise.reject(new Error('EPERM')))).toBeNull();
    expect(
      await releaseStartupPages(() => {
        throw new Error('no such function');
      }),
    ).toBeNull();
  });

  it('after its first cycle the monitor logs the release and holds far fewer node pages than `serve`', async () => {
    const env = { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' };
    const args = ['monitor', '--config', writeConfig().file, '--interval', '0.2'];
    // Killed by afterEach even when a wait below fails.
    const monitor = spawnCommand(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const serve = spawnCommand(process.execPath, [CLI, 'serve', '--config', writeConfig().file], {
      env,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let monitorErr = '';
    let serveErr = '';
    monitor.stderr!.on('data', (d: Buffer) => (monitorErr += d.toString()));
    serve.stderr!.on('data', (d: Buffer) => (serveErr += d.toString()));
    const binary = realpathSync(process.execPath);
    // What of the node binary each process has resident, in the areas a release may drop.
    const resident = (pid: number) =>
      loadNative()
        .parsers.releasableFileAreas(readFileSync(`/proc/${pid}/smaps`, 'utf8'))
        .filter((a) => a.path === binary)
        .reduce((kb, a) => kb + a.rssKb, 0);
    await waitFor(() => serveErr.includes('serving MCP') && /"type":"memory"/.test(monitorErr), 40_000);
    const line = monitorErr.split('\n').find((l) => l.includes('"type":"memory"'))!;
    const memory = JSON.parse(line) as { released_kb: number; rss_before_kb: number; rss_after_kb: number };
    expect(memory.released_kb).toBeGreaterThan(4096);
    expect(memory.rss_after_kb).toBeLessThan(memory.rss_before_kb);
    // Serve never releases (it started the same node and loaded the same addon).
    await waitFor(() => resident(monitor.pid!) < 0.6 * resident(serve.pid!), 20_000, 200);
  }, 90_000);
});
