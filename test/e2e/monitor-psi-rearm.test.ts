/**
 * The monitor's PSI trigger on the watched cgroup is armed again when the cgroup is removed and
 * re-created at the same path (a job restarted in a cgroup of the same name). A real cgroup v2
 * directory under /sys/fs/cgroup/unified with a real member process; the monitor's /metrics says
 * which triggers are armed. Needs root and the unified hierarchy; skipped (and says so) otherwise.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, writeConfig } from '../helpers/mcp.js';
import { killAll, scripts, spawnNode, waitFor } from '../helpers/children.js';

const UNIFIED = '/sys/fs/cgroup/unified';
const usable = process.getuid?.() === 0 && existsSync(path.join(UNIFIED, 'cgroup.procs'));
if (!usable)
  process.stderr.write('monitor-psi-rearm: skipped (needs root and a cgroup2 mount at /sys/fs/cgroup/unified)\n');

const name = `ovn-rearm-${process.pid}-${Date.now()}`;
const dir = path.join(UNIFIED, name);
let monitor: ChildProcess | undefined;

/** Moves a process into a cgroup (its cgroup.procs). */
const moveInto = (cgDir: string, pid: number) => writeFileSync(path.join(cgDir, 'cgroup.procs'), String(pid));

let member: ChildProcess | undefined;

afterEach(async () => {
  monitor?.kill('SIGKILL');
  // Out of the cgroup first: a killed member stays in it until it has exited, and rmdir needs it empty.
  try {
    if (member?.pid && existsSync(dir)) moveInto(UNIFIED, member.pid);
  } catch {
    /* already gone */
  }
  killAll();
  for (let i = 0; i < 100 && existsSync(dir); i++) {
    try {
      rmdirSync(dir);
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});

async function armed(metricsUrl: string): Promise<{ cgroup: number | null; system: number | null; rearms: number }> {
  const text = await (await fetch(metricsUrl)).text();
  const value = (re: RegExp) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : null;
  };
  return {
    cgroup: value(new RegExp(`^overnight_psi_trigger_armed\\{name="/${name}",[^}]*\\} (\\d)$`, 'm')),
    system: value(/^overnight_psi_trigger_armed\{name="system",[^}]*\} (\d)$/m),
    rearms: value(new RegExp(`^overnight_psi_trigger_rearms_total\\{name="/${name}"\\} (\\d+)$`, 'm')) ?? 0,
  };
}

describe.skipIf(!usable)('monitor: PSI trigger of a re-created cgroup', () => {
  it('is reported gone when the cgroup is removed and armed again when it comes back', async () => {
    mkdirSync(dir);
    member = spawnNode(scripts.idle());
    moveInto(dir, member.pid!);
    const { file } = writeConfig({ watch: { cgroup: `/${name}` } });
    monitor = spawn(process.execPath, [CLI, 'monitor', '--config', file, '--interval', '0.5', '--metrics', '0'], {
      env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/nonexistent/libnvidia-ml.so.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    monitor.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    monitor.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    await waitFor(() => /"type":"cycle"/.test(log), 60_000, 50);
    const url = (JSON.parse(log.split('\n').find((l) => l.includes('"type":"start"'))!) as { metrics: string }).metrics;

    // Armed at start: the cgroup's own memory.pressure and the system-wide one.
    expect(await armed(url)).toEqual({ cgroup: 1, system: 1, rearms: 0 });

    // Twice: the re-armed watcher must notice the next removal as the first one did.
    for (let round = 1; round <= 2; round++) {
      moveInto(UNIFIED, member.pid!);
      rmdirSync(dir);
      await waitFor(() => /is gone; system-wide pressure covers it/.test(log), 60_000, 50);
      const gone = await armed(url);
      expect(gone).toMatchObject({ cgroup: 0, system: 1 });
      log = '';

      mkdirSync(dir);
      moveInto(dir, member.pid!);
      const deadline = Date.now() + 60_000;
      let now = await armed(url);
      while (now.rearms < round && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        now = await armed(url);
      }
      expect(now).toEqual({ cgroup: 1, system: 1, rearms: round });
      expect(log).toMatch(new RegExp(`cgroup /${name}: .*memory\\.pressure is back; re-armed`));
    }
    expect(monitor.exitCode).toBeNull(); // still running
  }, 120_000);
});
