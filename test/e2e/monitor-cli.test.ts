import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, writeConfig } from '../helpers/mcp.js';
import { FakeNvmlConfig, buildFakeNvml, fakeGpus } from '../helpers/fake-nvml.js';
import { firstLine, killAll, scripts, spawnNode, waitFor } from '../helpers/children.js';

function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('overnight monitor (CLI)', () => {
  it('writes JSON lines off a terminal; serves metrics named like node_exporter and dcgm-exporter', async () => {
    const { file } = writeConfig();
    const fake = new FakeNvmlConfig({ devices: fakeGpus(2) });
    const p = spawn(
      process.execPath,
      [CLI, 'monitor', '--config', file, '--interval', '0.3', '--cycles', '8', '--metrics', '0'],
      {
        env: { ...process.env, OVERNIGHT_NVML_LIBRARY: buildFakeNvml().full, OVERNIGHT_FAKE_NVML_CONFIG: fake.path },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    const t0 = Date.now();
    while (!/"type":"cycle"/.test(err) && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
    const start = JSON.parse(err.split('\n')[0]) as { type: string; metrics: string };
    expect(start.type).toBe('start');
    const text = await (await fetch(start.metrics)).text();
    for (const name of [
      'node_memory_MemAvailable_bytes',
      'node_load1',
      'node_pressure_memory_waiting_seconds_total',
      'DCGM_FI_DEV_GPU_UTIL',
      'DCGM_FI_DEV_FB_USED',
      'overnight_health_status',
      'overnight_monitor_cycle_seconds_bucket',
      'overnight_monitor_process_cpu_seconds_total',
    ]) {
      expect(text).toContain(name);
    }
    // Running totals are counters, as node_exporter and dcgm-exporter declare them.
    expect(text).toContain('# TYPE node_pressure_memory_waiting_seconds_total counter');
    expect(text).toMatch(/^node_pressure_memory_waiting_seconds_total \d+(\.\d+)?(e[+-]?\d+)?$/m);
    expect(text).toContain('# TYPE DCGM_FI_DEV_PCIE_REPLAY_COUNTER counter');
    expect(text).toMatch(/^DCGM_FI_DEV_PCIE_REPLAY_COUNTER\{gpu="0",[^}]*\} \d+$/m);
    expect(text).toContain('# TYPE DCGM_FI_DEV_GPU_UTIL gauge');
    const code = await new Promise<number | null>((r) => p.on('exit', r));
    expect(code).toBe(0);
    const cycles = err
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string })
      .filter((l) => l.type === 'cycle');
    expect(cycles).toHaveLength(8);
  }, 40_000);

  it('sends sd_notify READY=1 and WATCHDOG=1 to $NOTIFY_SOCKET', async () => {
    const sock = path.join(mkdtempSync(path.join(tmpdir(), 'ovn-notify-')), 'notify.sock');
    const py = spawn(
      'python3',
      [
        '-u',
        '-c',
        `import socket\ns=socket.socket(socket.AF_UNIX, ` +
          `socket.SOCK_DGRAM)\ns.bind(${JSON.stringify(sock)})\nprint('listening', flush=True)\nwhile ` +
          `True:\n    print(s.recv(4096).decode().replace(chr(10), ' '), flush=True)`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let got = '';
    py.stdout.on('data', (d) => (got += d));
    while (!got.includes('listening')) await new Promise((r) => setTimeout(r, 20));
    const { file } = writeConfig();
    const r = await runCli(['monitor', '--config', file, '--interval', '0.2', '--cycles', '3', '--json'], {
      NOTIFY_SOCKET: sock,
    });
    expect(r.code).toBe(0);
    // The datagrams are queued on the socket; wait (bounded) until the listener has printed them.
    await waitFor(() => got.includes('READY=1') && (got.match(/WATCHDOG=1/g)?.length ?? 0) >= 3, 30_000).catch(
      () => undefined,
    );
    py.kill();
    expect(got).toContain('READY=1');
    expect(got.match(/WATCHDOG=1/g)!.length).toBeGreaterThanOrEqual(3);
    expect(got).toContain('STOPPING=1');
  }, 30_000);

  it('wakes at once when a watched process exits (pidfd), not at the interval', async () => {
    const child = spawnNode(scripts.idle());
    await firstLine(child);
    const { file } = writeConfig({ monitor: { watchPids: [child.pid!], intervalSec: 60 } });
    const p = spawn(process.execPath, [CLI, 'monitor', '--config', file, '--cycles', '2', '--json'], {
      env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    while (!/"type":"cycle"/.test(err)) await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    child.kill('SIGKILL');
    await new Promise((r) => p.on('exit', r));
    expect(Date.now() - t0).toBeLessThan(20_000);
    const last = err
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; trigger?: string })
      .filter((l) => l.type === 'cycle')
      .at(-1)!;
    expect(last.trigger).toBe(`exit:${child.pid}`);
    killAll();
  }, 40_000);
});

describe('overnight monitor: cycle lines', () => {
  it('say whether each cycle was a full or a quick check (monitor.fullCheckSec)', async () => {
    const { file } = writeConfig({ monitor: { fullCheckSec: 3600 } });
    const r = await runCli(['monitor', '--config', file, '--json', '--interval', '0.05', '--cycles', '10']);
    expect(r.code).toBe(0);
    const cycles = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; trigger: string; check: string })
      .filter((l) => l.type === 'cycle');
    expect(cycles).toHaveLength(10);
    // The first cycle, and any cycle something woke, is a full check; interval cycles in between are quick.
    expect(cycles[0]).toMatchObject({ trigger: 'start', check: 'full' });
    for (const c of cycles) expect(c.trigger === 'interval' ? ['full', 'quick'] : ['full']).toContain(c.check);
    expect(cycles.some((c) => c.check === 'quick')).toBe(true);
  }, 60_000);
});

describe('overnight monitor: --log-file rotation and stop', () => {
  it('SIGHUP reopens --log-file (logrotate) and the monitor goes on; SIGTERM writes a final stopped line', async () => {
    const { file, dir } = writeConfig();
    const log = path.join(dir, 'monitor.jsonl');
    const p = spawn(process.execPath, [CLI, 'monitor', '--config', file, '--interval', '0.1', '--log-file', log], {
      env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
    const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
    const parsed = (f: string) =>
      read(f)
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { type: string; signal?: string; cycles?: number });
    try {
      await waitFor(() => /"type":"cycle"/.test(read(log)), 30_000);
      // logrotate without copytruncate: move the file away, then signal.
      renameSync(log, `${log}.1`);
      p.kill('SIGHUP');
      // Healthy cycle lines are held up to 5 s: the new file appears with the next written line.
      await waitFor(() => /"type":"cycle"/.test(read(log)), 30_000);
      expect(p.exitCode).toBeNull();
      p.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      p.kill('SIGKILL');
    }
    const before = parsed(`${log}.1`);
    const after = parsed(log);
    expect(before[0].type).toBe('start');
    const last = after[after.length - 1];
    expect(last).toMatchObject({ type: 'stopped', signal: 'SIGTERM' });
    // No cycle line was lost across the rotation or at the stop: the held ones were written first.
    const cycles = [...before, ...after].filter((l) => l.type === 'cycle').length;
    expect(cycles).toBe(last.cycles);
    expect(err).toBe('');
  }, 90_000);
});

describe('overnight monitor: bad flags', () => {
  // Each is refused before start-up, naming the flag, with exit 78 (EX_CONFIG: systemd stops, no restart loop).
  // Before: a huge --interval overflowed setTimeout (1 ms sleeps, a busy loop) and --cycles 0/abc ran nothing, rc 0.
  const cases: [string[], RegExp][] = [
    [['--interval', '3000000', '--cycles', '20'], /^overnight: --interval: got "3000000"; expected seconds from 0\.05/],
    [['--interval', 'abc'], /^overnight: --interval: got "abc"; expected seconds/],
    [['--cycles', 'abc'], /^overnight: --cycles: got "abc"; expected a positive integer/],
    [['--cycles', '0'], /^overnight: --cycles: got "0"; expected a positive integer/],
    [['--cycles', '-3'], /^overnight: --cycles: got "-3"; expected a positive integer/],
    [['--metrics', 'abc', '--cycles', '1'], /^overnight: --metrics: got "abc"; expected a TCP port/],
    [['--metrics-host', '256.1.1.1', '--cycles', '1'], /^overnight: --metrics-host: got "256\.1\.1\.1"; expected/],
  ];
  it.each(cases)(
    'refuses %j with exit 78',
    async (args, message) => {
      const { file } = writeConfig();
      const r = await runCli(['monitor', '--config', file, '--json', ...args]);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.code).toBe(78);
    },
    30_000,
  );

  it('says a --config that is a directory is one, with the path', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'overnight-cfgdir-'));
    const r = await runCli(['monitor', '--config', dir, '--cycles', '1', '--json']);
    expect(r.stderr.trim()).toBe(`overnight: --config ${dir}: is a directory; expected a JSON configuration file`);
    expect(r.code).toBe(78);
  }, 30_000);
});

describe('overnight health --nhc (Slurm HealthCheckProgram)', () => {
  it('exits 0 on a healthy node and 1 with a one-line reason on a critical one', async () => {
    const { file } = writeConfig();
    const ok = await runCli(['health', '--nhc', '--config', file]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^OK (healthy|degraded)\n$/);
    const fake = new FakeNvmlConfig({ devices: [{ ...fakeGpus(1)[0], remapFailure: 1 }] });
    const bad = await runCli(['health', '--nhc', '--config', file], {
      OVERNIGHT_NVML_LIBRARY: buildFakeNvml().full,
      OVERNIGHT_FAKE_NVML_CONFIG: fake.path,
    });
    expect(bad.code).toBe(1);
    expect(bad.stdout.trim().split('\n')).toHaveLength(1);
    expect(bad.stdout).toMatch(/^overnight: GPU 0: row remapping failed/);
  }, 30_000);
});
