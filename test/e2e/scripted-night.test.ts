/**
 * The "Done when": a scripted night on this machine. Kernel lines injected into the real
 * /dev/kmsg (Xid 79, an OOM kill of a child of the agent, a hung task, an I/O error), a leaking
 * child recovered by the monitor, a task reporting progress, and the monitor SIGKILLed and
 * restarted half way. Afterwards `overnight events --json`, `healthCheck full` from a freshly
 * started serve, `overnight report --json` and the HTML report in Chromium tell the same story,
 * with nothing lost or doubled across the restart.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ProgressTracker } from '../../src/progress/progress-tracker.js';
import { openDatabase } from '../../src/store/database.js';
import { systemClock } from '../../src/util/clock.js';
import { haveChromium, renderInChromium } from '../helpers/browser.js';
import { firstLine, killAll, scripts, spawnNode } from '../helpers/children.js';
import { canWriteKmsg, injectKmsg, uniqueMarker, waitFor } from '../helpers/kmsg.js';
import { CLI, connectStdio, structured } from '../helpers/mcp.js';

const run = promisify(execFile);
const env = { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' };
const monitors: ChildProcess[] = [];
afterAll(() => {
  for (const m of monitors) if (m.exitCode === null) m.kill('SIGKILL');
  killAll();
});

describe.skipIf(!canWriteKmsg() || !haveChromium)('a scripted night', () => {
  it('tells one story on every surface, across a SIGKILLed and restarted monitor', async () => {
    const m = uniqueMarker('night');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ovn-night-'));
    const stateDir = path.join(dir, 'state');
    const configObj = {
      stateDir,
      kernelLog: { enabled: true },
      history: { intervalSec: 1 },
      // This test process is the agent: its children are in scope.
      policy: { scopeRoot: process.pid, termGraceSec: 1 },
      watch: {
        intervalSec: 0.2,
        warmupSec: 0,
        leakMinWindowSec: 2,
        leakMinSlopeMbPerMin: 100,
        leakMinR2: 0.5,
        noProgressSec: 0,
      },
      monitor: { recover: 'on', intervalSec: 0.5 },
    };
    const config = path.join(dir, 'config.json');
    writeFileSync(config, JSON.stringify(configObj));
    const db = openDatabase(stateDir);
    const mine = (kind?: string) =>
      (
        db
          .prepare(`SELECT kind FROM events WHERE source = 'kmsg' AND message LIKE ? ${kind ? 'AND kind = ?' : ''}`)
          .all(...[`%${m}%`, ...(kind ? [kind] : [])]) as { kind: string }[]
      ).map((r) => r.kind);
    const startMonitor = async () => {
      const p = spawn(process.execPath, [CLI, 'monitor', '--config', config, '--interval', '0.5', '--json'], {
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      monitors.push(p);
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      await waitFor(() => /"type":"cycle"/.test(err), 60_000, "the monitor's first cycle");
      return p;
    };
    const progress = new ProgressTracker(db, parseConfig(configObj), systemClock);
    const taskId = `task-${m}`;

    // First half: monitor A reads the kernel log.
    let monitor = await startMonitor();
    await progress.trackCodingProgress(taskId, [{ stage: 'implement', completion: 0.2 }]);
    injectKmsg(`INFO: task ${m}:8101 blocked for more than 120 seconds.`);
    injectKmsg(`blk_update_request: I/O error, dev ${m}, sector 4096 op 0x0:(READ) flags 0x0`);
    const victim = spawnNode(scripts.allocateOnce(8));
    await firstLine(victim);
    injectKmsg(`Memory cgroup out of memory: Killed process ${victim.pid} (${m}) total-vm:9000kB, anon-rss:8192kB`);
    await waitFor(() => mine().length >= 3, 60_000, 'monitor A storing the first three lines');
    // Ended after the line was matched: a real victim has lived through the process watch's scans
    // (it knows the pid); this short-lived one is known to be the agent's by its ancestry.
    victim.kill('SIGKILL');
    await progress.trackCodingProgress(taskId, [{ stage: 'implement', completion: 0.5 }]);

    // Half way: the monitor is killed without a chance to clean up; the Xid comes while none runs.
    monitor.kill('SIGKILL');
    await new Promise((r) => monitor.once('exit', r));
    injectKmsg(`NVRM: Xid (PCI:0000:3b:00): 79, pid=8104, name=${m}, GPU has fallen off the bus.`);

    // Second half: monitor B resumes from the stored sequence and recovers a leaking child.
    monitor = await startMonitor();
    await waitFor(() => mine('xid').length === 1, 60_000, 'monitor B storing the Xid written while none ran');
    const leaker = spawnNode(scripts.leak(20));
    await firstLine(leaker);
    const leakerExit = new Promise((r) => leaker.once('exit', r));
    await waitFor(
      () =>
        db
          .prepare(
            `SELECT 1 FROM recoveries WHERE operation_type = 'memory_leak' AND status = 'recovered' AND target LIKE ?`,
          )
          .get(`%${leaker.pid}%`),
      90_000,
      'the monitor recovering the leak',
    );
    await leakerExit;
    await progress.trackCodingProgress(taskId, [{ stage: 'test', completion: 0.8 }]);
    await waitFor(
      () => (db.prepare('SELECT COUNT(*) AS n FROM metric_history').get() as { n: number }).n >= 3,
      30_000,
      'metric history rows',
    );
    monitor.kill('SIGTERM');
    await new Promise((r) => monitor.once('exit', r));

    // Nothing lost, nothing doubled across the restart.
    expect(mine().sort()).toEqual(['hung_task', 'io_error', 'oom_kill', 'xid']);
    const story = ['hung_task', 'io_error', 'oom_kill', 'xid'];

    // 1. overnight events --json
    const ev = JSON.parse(
      (
        await run(process.execPath, [CLI, 'events', '--json', '--since', '1h', '--config', config], {
          env,
          timeout: 60_000,
        })
      ).stdout,
    ) as { source: string; kind: string; message: string; subject: { inScope?: boolean } }[];
    // (The monitor's critical alerts quote the Xid line too: they are source monitor, kind alert.)
    const evMine = ev.filter((e) => e.source === 'kmsg' && e.message.includes(m));
    expect(evMine.map((e) => e.kind).sort()).toEqual(story);
    expect(evMine.find((e) => e.kind === 'oom_kill')!.subject.inScope).toBe(true);

    // 2. healthCheck full from a freshly started serve
    const conn = await connectStdio(configObj);
    try {
      const r = structured<{
        status: string;
        metrics: {
          events: {
            recent: { source: string; kind: string; message: string }[];
            critical: string[];
            degraded: string[];
          };
          recovery_status: { last: { operation_type: string; status: string } | null };
        };
      }>(await conn.client.callTool({ name: 'healthCheck', arguments: { checkType: 'full' } }));
      expect(r.status).toBe('critical');
      expect(
        r.metrics.events.recent
          .filter((e) => e.source === 'kmsg' && e.message.includes(m))
          .map((e) => e.kind)
          .sort(),
      ).toEqual(story);
      expect(r.metrics.events.critical.some((c) => c.includes(m) && c.includes('Xid 79'))).toBe(true);
      expect(r.metrics.events.degraded.some((d) => d.includes(`OOM kill in the agent's scope`) && d.includes(m))).toBe(
        true,
      );
      expect(r.metrics.recovery_status.last).toMatchObject({ operation_type: 'memory_leak', status: 'recovered' });
    } finally {
      await conn.close();
    }

    // 3. overnight report --json, and 4. the HTML in Chromium
    const html = path.join(dir, 'night.html');
    const rep = JSON.parse(
      (
        await run(process.execPath, [CLI, 'report', '--since', '1h', '--json', '--out', html, '--config', config], {
          env,
          timeout: 120_000,
          maxBuffer: 64 * 2 ** 20,
        })
      ).stdout,
    ) as {
      summary: { verdict: string };
      series: { t: number[] };
      events: { source: string; kind: string; message: string }[];
      recoveries: { operation_type: string; status: string; target: { pid?: number } }[];
      tasks: { task_id: string; completion: number }[];
    };
    expect(
      rep.events
        .filter((e) => e.source === 'kmsg' && e.message.includes(m))
        .map((e) => e.kind)
        .sort(),
    ).toEqual(story);
    expect(
      rep.recoveries.some(
        (x) => x.operation_type === 'memory_leak' && x.status === 'recovered' && x.target.pid === leaker.pid,
      ),
    ).toBe(true);
    expect(rep.tasks.find((t) => t.task_id === taskId)).toMatchObject({ completion: 0.8 });
    expect(rep.series.t.length).toBeGreaterThanOrEqual(3);
    expect(rep.summary.verdict).toBe('bad');

    const seen = await renderInChromium(html, 'scripted-night');
    expect(seen.errors).toEqual([]);
    expect(seen.requests).toEqual([]);
    expect(seen.verdict).toBe('bad');
    for (const k of story) expect(seen.kinds).toContain(k);
    for (const line of [
      `${m}:8101 blocked`,
      `dev ${m}, sector 4096`,
      `Killed process ${victim.pid} (${m})`,
      `name=${m}, GPU has fallen off the bus`,
    ])
      expect(seen.events).toContain(line);
    expect(seen.tasks).toContain(taskId);
    expect(seen.recoveries).toContain('memory_leak');
    expect(seen.plots).toBeGreaterThanOrEqual(4); // memory, cpu, psi, the task
    db.close();
  }, 400_000);
});
