/**
 * The node-wide inputs of a check that come from the other engines and the store: leak and hang
 * suspects, stalled tasks, the recovery journal and the event history's verdict. The store's
 * answers are SQLite queries (a third of a quick check's own time), so a quick check reuses them
 * for one sampler tick (`reuseMs`, see quick-cache.ts); full checks ask afresh.
 */
import type { Clock } from '../util/clock.js';
import { Reused } from './quick-cache.js';
import type { RecoveryStatusMetric } from './report.js';
import type {
  HangSuspect,
  LeakSuspect,
  NodeEventAssessment,
  NodeEventSource,
  RecoveryJournal,
  RecoveryRecord,
  StalledTask,
  StalledTaskSource,
  SuspectSource,
} from './sources.js';

export interface NodeInputSources {
  suspects?: SuspectSource;
  events?: NodeEventSource;
  recoveries?: RecoveryJournal;
  tasks?: StalledTaskSource;
}

type Journal = { last: RecoveryRecord | null; lastHour: { recovered: number; failed: number; escalated: number } };

export class NodeInputs {
  private readonly quickEvents = new Reused<NodeEventAssessment | null>();
  private readonly quickTasks = new Reused<StalledTask[]>();
  private readonly quickJournal = new Reused<Journal | null>();
  private readonly quickSuspects = new Reused<{ leaks: LeakSuspect[]; hangs: HangSuspect[] }>();

  constructor(
    private readonly clock: Clock,
    private readonly sources: NodeInputSources,
  ) {}

  /** The kept answers no longer hold (the sampler stopped). */
  invalidate(): void {
    this.quickEvents.invalidate();
    this.quickTasks.invalidate();
    this.quickJournal.invalidate();
    this.quickSuspects.invalidate();
  }

  /**
   * The watch's leak and hang suspects. A quick check only counts them (for its status), and the
   * watch's verdicts move at its own scans: it reuses them for one tick (`reuseMs`) as it does the
   * store's answers; full checks, which list them, ask afresh.
   */
  suspects(reuseMs: number): { leaks: LeakSuspect[]; hangs: HangSuspect[] } {
    return this.quickSuspects.get(reuseMs, () => ({
      leaks: this.sources.suspects?.leakSuspects() ?? [],
      hangs: this.sources.suspects?.hangSuspects() ?? [],
    })).value;
  }

  stalledTasks(reuseMs: number): StalledTask[] {
    return this.quickTasks.get(reuseMs, () => this.sources.tasks?.stalledTasks(this.clock.now()) ?? []).value;
  }

  /** The report's recovery_status and the last recovery (which a recovery check compares with). */
  recoveries(reuseMs: number): { metric: RecoveryStatusMetric; last: RecoveryRecord | null } {
    const rec = this.sources.recoveries;
    // Keyed on this process's journal writes: a check right after our own recovery sees it.
    const journal = this.quickJournal.get(
      reuseMs,
      () => (rec ? { last: rec.lastRecovery(), lastHour: rec.recentCounts(3600_000) } : null),
      String(rec?.writes ?? 0),
    ).value;
    const last = journal?.last ?? null;
    if (!rec) return { metric: { last: null, note: 'no recovery engine attached' }, last };
    const brief = last
      ? { id: last.id, operation_type: last.operation_type, status: last.status, finished_at: last.finished_at }
      : null;
    return { metric: { last: brief, last_hour: journal?.lastHour ?? rec.recentCounts(3600_000) }, last };
  }

  /**
   * The event history's verdict: a fatal Xid any process saw (with or without NVML here), OOM kills
   * in scope, kernel trouble, and GPUs missing against the expected count. A quick check reuses it
   * for one tick (it lists no events, and the verdict reads every event in the Xid window: its cost
   * grows with the night's history).
   */
  events(
    full: boolean,
    reuseMs: number,
    gpus: { seen: { count: number; busIds: string[] | null } | null; otherwiseHealthy: boolean },
  ): NodeEventAssessment | null {
    const assess = () => this.sources.events?.assess(this.clock.now(), gpus, full ? 50 : 0) ?? null;
    if (full) return assess();
    return this.quickEvents.get(reuseMs, assess, `${JSON.stringify(gpus.seen)}:${gpus.otherwiseHealthy}`).value;
  }
}
