/**
 * A scripted night written into a state directory through the real stores: the metric history at
 * its 10 s interval (a memory leak that grows and is recovered), kernel events, a recovery, an
 * alert and a task that reports progress. Used by the report tests and the report benchmark.
 */
import { parseConfig } from '../../src/config/load.js';
import { EventStore } from '../../src/events/event-store.js';
import type { NodeEvent } from '../../src/events/types.js';
import { MetricHistory } from '../../src/history/metric-history.js';
import { ProgressTracker } from '../../src/progress/progress-tracker.js';
import { RecoveryJournalStore } from '../../src/recovery/journal.js';
import { openDatabase } from '../../src/store/database.js';
import { ManualClock } from '../../src/util/clock.js';

export interface SeededNight {
  startMs: number;
  endMs: number;
  taskId: string;
  kinds: string[];
  rows: number;
}

export async function seedNight(
  stateDir: string,
  hours: number,
  marker: string,
  endMs = Date.now(),
): Promise<SeededNight> {
  const db = openDatabase(stateDir);
  const startMs = endMs - hours * 3600_000;
  const history = new MetricHistory(db, 10_000);
  const events = new EventStore(db);
  const boot = 'boot-' + marker;
  let rows = 0;
  db.transaction(() => {
    for (let t = startMs; t <= endMs; t += 10_000) {
      const f = (t - startMs) / (endMs - startMs);
      // A leak from 30 % to 60 % of the night, recovered at 60 %.
      const leak = f > 0.3 && f < 0.6 ? (f - 0.3) * 20 * 2 ** 30 : 0;
      history.record(t, boot, {
        mem_used_bytes: 4 * 2 ** 30 + leak + Math.sin(t / 600_000) * 2 ** 28,
        mem_available_bytes: 12 * 2 ** 30 - leak,
        cpu_busy: 0.4 + 0.3 * Math.sin(t / 900_000),
        psi_cpu_some: 2 + Math.abs(Math.sin(t / 300_000)) * 5,
        psi_memory_some: f > 0.5 && f < 0.6 ? 25 : 0.5,
        psi_memory_full: f > 0.55 && f < 0.6 ? 8 : 0,
        psi_io_some: 1,
        gpu0_util: 90 + 5 * Math.sin(t / 100_000),
        gpu0_temp_c: 70,
        gpu0_power_w: 300,
        gpu0_mem_used_bytes: 60 * 2 ** 30,
      });
      rows++;
    }
  })();
  const at = (f: number) => Math.round(startMs + f * (endMs - startMs));
  const ev = (
    f: number,
    kind: string,
    severity: NodeEvent['severity'],
    message: string,
    subject: NodeEvent['subject'],
  ): NodeEvent => ({
    source: 'kmsg',
    kind,
    severity,
    message,
    subject,
    bootId: boot,
    monoUs: null,
    timeMs: at(f),
    key: `seed:${marker}:${kind}:${f}`,
  });
  events.add([
    ev(0.2, 'hung_task', 'warning', `INFO: task ${marker}:4101 blocked for more than 120 seconds.`, {
      comm: marker,
      pid: 4101,
      seconds: 120,
    }),
    ev(0.45, 'oom_kill', 'warning', `Memory cgroup out of memory: Killed process 4102 (${marker}) total-vm:9000kB`, {
      pid: 4102,
      comm: marker,
      inScope: true,
    }),
    ev(0.7, 'io_error', 'warning', `blk_update_request: I/O error, dev ${marker}, sector 2048 op 0x0:(READ)`, {
      device: marker,
      sector: 2048,
    }),
    ev(
      0.9,
      'xid',
      'critical',
      `NVRM: Xid (PCI:0000:3b:00): 79, pid=4103, name=${marker}, GPU has fallen off the bus.`,
      { xid: 79, pciBusId: '0000:3b:00.0', xidClass: 'fatal' },
    ),
    {
      ...ev(0.6, 'alert', 'critical', `memory leak in ${marker} recovered`, { key: `leak:${marker}` }),
      source: 'monitor',
    },
  ]);
  new RecoveryJournalStore(db).record({
    id: `rec-${marker}`,
    operation_type: 'memory_leak',
    status: 'recovered',
    started_at: new Date(at(0.6)).toISOString(),
    finished_at: new Date(at(0.6) + 4000).toISOString(),
    target: { pid: 4104 },
    before: { status: 'critical', breached: ['memory'], memory_used_fraction: 0.9, gpu_statuses: {} },
    result: { message: `ended leaking pid 4104 (${marker}) after it grew 6 GiB in 3 h` },
  });
  const clock = new ManualClock(startMs);
  const taskId = `task-${marker}`;
  const progress = new ProgressTracker(db, parseConfig({ stateDir }), clock);
  for (let i = 0; i <= 8; i++) {
    clock.set(at(i / 10));
    await progress.trackCodingProgress(taskId, [{ stage: i < 4 ? 'implement' : 'test', completion: i / 10 }]);
  }
  db.close();
  return { startMs, endMs, taskId, kinds: ['hung_task', 'oom_kill', 'io_error', 'xid'], rows };
}
