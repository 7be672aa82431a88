/**
 * The monitor as systemd runs it: the shipped unit passes `systemd-analyze verify` and rates "OK"
 * in `systemd-analyze security --offline=true`; an unopenable log file is EX_CONFIG; with a parent
 * that is PID 1 (a double fork) or a subreaper that adopted it, `recover: on` needs an explicit
 * scope; memory is judged in the agent's cgroup (watch.cgroup), not the monitor's own.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { root } from '../helpers/isolated.js';
import { CLI, writeConfig } from '../helpers/mcp.js';

const UNIT = path.join(root, 'examples/systemd/overnight-monitor.service');
const env = { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' };

function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; timeout?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { env, timeout: options.timeout ?? 60_000, ...(options.cwd ? { cwd: options.cwd } : {}) },
      (err, stdout, stderr) =>
        resolve({
          code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const alive = (pid: number) => {
  try {
    // A zombie is not alive: it has exited and waits for its reaper.
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return false;
  }
};

describe('the systemd unit', () => {
  it('passes systemd-analyze verify and rates OK (exposure <= 4.9) in security --offline=true', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'ovn-unit-'));
    const verify = await run('systemd-analyze', ['verify', UNIT], { cwd });
    expect(verify.stderr.split('\n').filter((l) => l.includes('overnight-monitor'))).toEqual([]);
    expect(verify.code).toBe(0);
    const sec = await run('systemd-analyze', ['security', '--offline=true', '--no-pager', UNIT], { cwd });
    const m = /Overall exposure level for overnight-monitor\.service: (\d+(?:\.\d+)?) (\w+)/.exec(sec.stdout);
    expect(m, sec.stdout.slice(-400) + sec.stderr).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(4.9);
    expect(m![2]).toBe('OK');
    const text = readFileSync(UNIT, 'utf8');
    // V8's JIT maps writable+executable memory: this directive would crash node at start.
    expect(text).not.toMatch(/^MemoryDenyWriteExecute=/m);
    // The log file sits in the directory systemd creates for the unit, the state in its StateDirectory.
    const logsDir = /^LogsDirectory=(\S+)/m.exec(text)![1];
    const stateDir = /^StateDirectory=(\S+)/m.exec(text)![1];
    expect(/--log-file (\S+)/.exec(text)![1].startsWith(`/var/log/${logsDir}/`)).toBe(true);
    expect(text).toContain(`OVERNIGHT_STATE_DIR=/var/lib/${stateDir}`);
    expect(text).toMatch(/^RestartPreventExitStatus=78$/m);
  });

  it('a log file that cannot be opened is one line naming the path, exit 78 (EX_CONFIG)', async () => {
    const { file, dir } = writeConfig();
    const log = path.join(dir, 'missing-dir', 'monitor.jsonl');
    const r = await run(process.execPath, [
      CLI,
      'monitor',
      '--config',
      file,
      '--cycles',
      '1',
      '--interval',
      '0.1',
      '--log-file',
      log,
    ]);
    expect(r.code).toBe(78);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(log);
    expect(r.stderr).toContain('ENOENT');
    // With the directory there (what LogsDirectory= does), the same command logs its cycles.
    mkdirSync(path.dirname(log));
    const ok = await run(process.execPath, [
      CLI,
      'monitor',
      '--config',
      file,
      '--cycles',
      '1',
      '--interval',
      '0.1',
      '--log-file',
      log,
    ]);
    expect(ok.code).toBe(0);
    expect(readFileSync(log, 'utf8')).toMatch(/"type":"cycle"/);
    // An invalid configuration is EX_CONFIG too (RestartPreventExitStatus=78: no restart loop).
    const bad = writeConfig({ monitor: { recovr: 'on' } });
    const r78 = await run(process.execPath, [CLI, 'monitor', '--config', bad.file, '--cycles', '1']);
    expect(r78.code).toBe(78);
    expect(r78.stderr).toContain('monitor.recovr: unknown key; did you mean "recover"?');
  });
});

describe('recover: on without an implicit scope', () => {
  it('started by a double fork (parent PID 1), the monitor refuses to start, naming the settings to give', async () => {
    const { file, dir } = writeConfig({ monitor: { recover: 'on' } });
    const err = path.join(dir, 'stderr');
    // sh exits at once: the monitor is orphaned and re-parented to PID 1 (or the nearest subreaper).
    const r = await run('sh', [
      '-c',
      `"$0" "$1" monitor --config "$2" --cycles 1 --interval 0.1 --json >/dev/null 2>"$3" & echo $!`,
      process.execPath,
      CLI,
      file,
      err,
    ]);
    const pid = Number(r.stdout.trim());
    expect(pid).toBeGreaterThan(1);
    await until(() => !alive(pid), 30_000, 'the orphaned monitor to exit');
    const text = readFileSync(err, 'utf8');
    expect(text).toContain('no implicit scope');
    for (const key of ['policy.scopeRoot', 'policy.scopeUnit', 'policy.scopeUser']) expect(text).toContain(key);
    expect(text).not.toContain('"type":"start"');
    expect(text.trim().split('\n')).toHaveLength(1);
  });

  it('adopted by a subreaper after fork, setsid, fork: exits 78; with policy.scopeUser it starts', async () => {
    // A subreaper (PR_SET_CHILD_SUBREAPER = 36) that reaps the orphan and reports its exit status.
    const reaper = (config: string, err: string) => `
import ctypes, os, subprocess, sys
assert ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0
subprocess.run(['setsid', 'sh', '-c',
                '"$0" "$1" monitor --config "$2" --cycles 1 --interval 0.1 --json >/dev/null 2>"$3" &',
                ${JSON.stringify(process.execPath)}, ${JSON.stringify(CLI)},
                ${JSON.stringify(config)}, ${JSON.stringify(err)}], check=True)
pid, status = os.wait()
print(os.waitstatus_to_exitcode(status), flush=True)
`;
    const refused = writeConfig({ monitor: { recover: 'on' } });
    const r1 = await run('python3', ['-c', reaper(refused.file, path.join(refused.dir, 'stderr'))]);
    expect(r1.stdout.trim()).toBe('78');
    expect(readFileSync(path.join(refused.dir, 'stderr'), 'utf8')).toMatch(/no implicit scope: .*subreaper/);

    const scoped = writeConfig({ monitor: { recover: 'on' }, policy: { scopeUser: userInfo().username } });
    const r2 = await run('python3', ['-c', reaper(scoped.file, path.join(scoped.dir, 'stderr'))]);
    expect(r2.stdout.trim()).toBe('0');
    expect(readFileSync(path.join(scoped.dir, 'stderr'), 'utf8')).toMatch(/"type":"cycle"/);
  });

  it('started by its agent runner (an ordinary parent), recover: on starts with the parent as scope', async () => {
    const { file } = writeConfig({ monitor: { recover: 'on' } });
    const r = await run(process.execPath, [
      CLI,
      'monitor',
      '--config',
      file,
      '--cycles',
      '1',
      '--interval',
      '0.1',
      '--json',
    ]);
    expect(r.stderr).toMatch(/"type":"start".*"recover":"on"/);
    expect(r.code).toBe(0);
  });
});

// Creating memory cgroups needs root (CI runs as root). The agent's cgroup lives in cgroup v1's
// memory hierarchy here, or in the v2 tree on a unified host.
const v1 = '/sys/fs/cgroup/memory';
const cgroupRoot = existsSync(`${v1}/memory.limit_in_bytes`)
  ? v1
  : existsSync('/sys/fs/cgroup/cgroup.controllers')
    ? '/sys/fs/cgroup'
    : null;
const asRoot = process.getuid?.() === 0;

describe.skipIf(!asRoot || !cgroupRoot)("watch.cgroup: memory judged in the agent's cgroup", () => {
  const made: string[] = [];
  const children: number[] = [];
  afterAll(() => {
    for (const pid of children) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const d of made.reverse()) {
      for (let i = 0; i < 100; i++) {
        try {
          rmdirSync(d);
          break;
        } catch {
          // the killed child may not have left the cgroup yet
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        }
      }
    }
  });

  it('reads the limit of the unit or cgroup path named in watch.cgroup, and says so when it is empty', async () => {
    const tag = `${process.pid}-${Date.now()}`;
    const slice = path.join(cgroupRoot!, `ovn-test-${tag}.slice`);
    const unit = `ovn-agent-${tag}.service`;
    const dir = path.join(slice, unit);
    for (const d of [slice, dir]) {
      mkdirSync(d);
      made.push(d);
    }
    const limit = 48 * 2 ** 20;
    if (cgroupRoot === v1) writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(limit));
    else {
      writeFileSync(path.join(cgroupRoot!, 'cgroup.subtree_control'), '+memory');
      writeFileSync(path.join(slice, 'cgroup.subtree_control'), '+memory');
      writeFileSync(path.join(dir, 'memory.max'), String(limit));
    }
    // The "agent": a process in that cgroup.
    const agent = spawn('sleep', ['600'], { stdio: 'ignore' });
    children.push(agent.pid!);
    writeFileSync(path.join(dir, 'cgroup.procs'), String(agent.pid));

    const health = async (config: Record<string, unknown>) => {
      const { file } = writeConfig(config);
      const r = await run(process.execPath, [
        CLI,
        'health',
        '--json',
        '--check',
        'quick',
        '--exit-zero',
        '--config',
        file,
      ]);
      expect(r.stderr).toBe('');
      return JSON.parse(r.stdout) as {
        metrics: {
          memory_status: { cgroup: { limit_bytes: number | null } | null; unavailable?: Record<string, string> };
        };
      };
    };
    const own = await health({});
    expect(own.metrics.memory_status.cgroup?.limit_bytes ?? null).not.toBe(limit);
    const byUnit = await health({ watch: { cgroup: unit } });
    expect(byUnit.metrics.memory_status.cgroup?.limit_bytes).toBe(limit);
    const byPath = await health({ watch: { cgroup: `/ovn-test-${tag}.slice/${unit}` } });
    expect(byPath.metrics.memory_status.cgroup?.limit_bytes).toBe(limit);
    // policy.scopeUnit names the agent's cgroup too when watch.cgroup is not given.
    const byScope = await health({ policy: { scopeUnit: unit } });
    expect(byScope.metrics.memory_status.cgroup?.limit_bytes).toBe(limit);

    process.kill(agent.pid!, 'SIGKILL');
    await until(
      () => readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim() === '',
      30_000,
      'the agent to leave its cgroup',
    );
    const empty = await health({ watch: { cgroup: unit } });
    expect(empty.metrics.memory_status.cgroup).toBeNull();
    expect(empty.metrics.memory_status.unavailable?.cgroup).toContain(
      `watch.cgroup ${unit}: no process in that cgroup`,
    );
  });
});
