/**
 * What the event history means for the node's health now: a fatal-class Xid within
 * gpu.xidWindowSec is critical (with or without NVML on the node), an OOM kill of a process in the
 * agent's scope is degraded with the victim named, a filesystem gone read-only is critical, other
 * kernel trouble is degraded. The health check also lists the recent events (bounded, newest first).
 */
import type { OvernightConfig } from '../config/schema.js';
import type { EventStore } from './event-store.js';
import type { WindowRead } from './event-window.js';
import type { GpuInventory, GpuInventoryCheck } from './gpu-inventory.js';
import type { KernelLogStatus } from './kernel-log.js';
import { normalizeBusId } from './kmsg-matcher.js';
import type { StoredEvent } from './types.js';

export interface StoredXid {
  gpuIndex?: number;
  pciBusId?: string;
  xid: number;
  timeMs: number;
  source: string;
}

export interface EventAssessment {
  critical: string[];
  /**
   * What each `critical` entry is about, index for index: one GPU, one switch, one device, the GPU
   * inventory. Alerts are keyed on these, so a GPU that logged twenty fatal Xids is one fault.
   */
  critical_subjects: string[];
  degraded: string[];
  /** Newest first, at most `limit`. */
  recent: {
    time: string;
    source: string;
    kind: string;
    severity: string;
    message: string;
    subject: Record<string, unknown>;
  }[];
  xids: StoredXid[];
  gpu_inventory?: GpuInventoryCheck;
  kernel_log: KernelLogStatus | { available: false; reason: string } | null;
}

const DEGRADING_KINDS = new Set([
  'hung_task',
  'lockup',
  'io_error',
  'fs_error',
  'mce',
  'kernel_bug',
  'sxid',
  'kmsg_lost',
]);

/** One line per event, kept: the window's events are the same objects from one check to the next. */
const described = new WeakMap<StoredEvent, string>();

function describe(e: StoredEvent): string {
  let line = described.get(e);
  if (line === undefined) described.set(e, (line = describeOnce(e)));
  return line;
}

function describeOnce(e: StoredEvent): string {
  const s = e.subject;
  const who = s.pid !== undefined ? ` (pid ${s.pid}${s.comm ? ` ${s.comm}` : ''})` : '';
  const gpu = s.gpuIndex !== undefined ? `GPU ${s.gpuIndex} ` : s.pciBusId ? `GPU ${s.pciBusId} ` : '';
  return (
    `${new Date(e.timeMs).toISOString()} ${e.kind} ` +
    `${gpu}${s.xid !== undefined ? `Xid ${s.xid}` : ''}${who}: ${e.message.slice(0, MAX_LINE_CHARS)}`
  )
    .replace(/\s+/g, ' ')
    .slice(0, MAX_LINE_CHARS);
}

/** Events judged per check: the newest this many in the Xid window. */
const WINDOW_LIMIT = 10_000;
/** Xids (and GPU resets) reported per check, newest first. */
const XID_LIMIT = 1000;
/** Lines of `critical` (beyond these, only a subject's first) and of `degraded` (then a count) per check. */
const MAX_LINES = 50;
/** Subjects named in `critical`, at most. */
const MAX_SUBJECTS = 256;
/** A line names the event; its kernel message is cut to fit. */
const MAX_LINE_CHARS = 400;
/**
 * What can make the node critical, each kind a window of its own past the main window's limit: a flood of
 * other critical kinds (lockups, MCEs) must not push a fatal Xid out either.
 */
const CRITICAL_KINDS = [
  { kind: 'xid', severity: 'critical' },
  { kind: 'sxid', severity: 'critical' },
  { kind: 'fs_readonly' },
] as const;

/** Newest first, as the windows are. */
function newerFirst(a: StoredEvent, b: StoredEvent): number {
  return b.timeMs - a.timeMs || b.id - a.id;
}

export class EventHealth {
  constructor(
    private readonly store: EventStore,
    private readonly config: Pick<OvernightConfig, 'gpu'>,
    private readonly inventory: GpuInventory | null = null,
    private readonly kernelLog: () => EventAssessment['kernel_log'] = () => null,
    private readonly bootId: string = '',
  ) {}

  /** Stores a successful GPU reset (any process's later checks then ignore that GPU's older Xids). */
  recordGpuReset(gpuIndex: number, busId: string | null, timeMs: number): void {
    const bus = busId ? normalizeBusId(busId) : undefined;
    this.store.add([
      {
        source: 'recovery',
        kind: 'gpu_reset',
        severity: 'info',
        subject: { gpuIndex, ...(bus ? { pciBusId: bus } : {}) },
        message: `GPU ${gpuIndex}${bus ? ` (${bus})` : ''} was reset: its earlier Xids no longer describe it`,
        bootId: this.bootId,
        monoUs: null,
        timeMs,
        key: `gpu_reset:${gpuIndex}:${timeMs}`,
      },
    ]);
  }

  /** An Xid event a later reset of its GPU (by index or bus id) has superseded. */
  private supersededBy(resets: readonly StoredEvent[]): (e: StoredEvent) => boolean {
    return (e) =>
      resets.some(
        (r) =>
          r.timeMs >= e.timeMs &&
          ((r.subject.gpuIndex !== undefined && r.subject.gpuIndex === e.subject.gpuIndex) ||
            (r.subject.pciBusId !== undefined && r.subject.pciBusId === e.subject.pciBusId)),
      );
  }

  /** Xids stored by any process (kernel log or NVML) within the Xid window, not superseded by a reset. */
  recentXids(nowMs: number): StoredXid[] {
    return this.xidsOf(this.store.window(this.windowStart(nowMs), WINDOW_LIMIT), nowMs);
  }

  private windowStart(nowMs: number): number {
    return nowMs - this.config.gpu.xidWindowSec * 1000;
  }

  /** From the window when it holds every event in it; else (a flood past its limit) from a window of each kind. */
  private xidsOf(w: WindowRead, nowMs: number): StoredXid[] {
    const ofKind = (kind: string) =>
      w.complete
        ? w.events.filter((e) => e.kind === kind).slice(0, XID_LIMIT)
        : this.store.window(this.windowStart(nowMs), XID_LIMIT, { kind }).events;
    const superseded = this.supersededBy(ofKind('gpu_reset'));
    return ofKind('xid')
      .filter((e) => typeof e.subject.xid === 'number' && !superseded(e))
      .map((e) => ({
        xid: e.subject.xid as number,
        timeMs: e.timeMs,
        source: e.source,
        ...(typeof e.subject.gpuIndex === 'number' ? { gpuIndex: e.subject.gpuIndex } : {}),
        ...(typeof e.subject.pciBusId === 'string' ? { pciBusId: e.subject.pciBusId } : {}),
      }));
  }

  assess(
    nowMs: number,
    gpus: { seen: { count: number; busIds: string[] | null } | null; otherwiseHealthy: boolean } | null,
    limit = 50,
  ): EventAssessment {
    const sinceMs = this.windowStart(nowMs);
    const read = this.store.window(sinceMs, WINDOW_LIMIT);
    const window = read.events;
    // A flood past the window's limit (10,000 newer events) must not hide what makes the node critical: then the
    // critical events (a fatal Xid, a fatal SXid, a read-only filesystem: all stored as severity critical) and the
    // GPU resets are read from windows of their own.
    const criticalSource = read.complete
      ? window
      : CRITICAL_KINDS.flatMap((f) => this.store.window(sinceMs, WINDOW_LIMIT, f).events).sort(newerFirst);
    const resets = read.complete
      ? window.filter((e) => e.kind === 'gpu_reset')
      : this.store.window(sinceMs, WINDOW_LIMIT, { kind: 'gpu_reset' }).events;
    const superseded = this.supersededBy(resets);
    const critical: string[] = [];
    const criticalSubjects: string[] = [];
    const subjects = new Set<string>();
    const crit = (subject: string, message: string) => {
      // Bounded, but every subject (a GPU, an NVSwitch, a filesystem: a node has tens) keeps its newest line: the
      // report makes one fault per subject.
      if (critical.length >= MAX_LINES && (subjects.has(subject) || subjects.size >= MAX_SUBJECTS)) return;
      subjects.add(subject);
      critical.push(message);
      criticalSubjects.push(subject);
    };
    const of = (e: StoredEvent) =>
      String(e.subject.gpuIndex ?? e.subject.pciBusId ?? e.subject.device ?? e.subject.path ?? 'node');
    for (const e of criticalSource) {
      if (e.kind === 'xid' && superseded(e)) continue;
      if (e.kind === 'xid' && e.subject.xidClass === 'fatal') crit(`gpu:${of(e)}`, `fatal ${describe(e)}`);
      else if (e.kind === 'sxid' && e.severity === 'critical') crit(`nvswitch:${of(e)}`, describe(e));
      else if (e.kind === 'fs_readonly') crit(`fs_readonly:${of(e)}`, describe(e));
    }
    const degraded: string[] = [];
    let moreDegraded = 0;
    const degrade = (line: () => string) => {
      if (degraded.length < MAX_LINES) degraded.push(line());
      else moreDegraded++;
    };
    for (const e of window) {
      if (e.kind === 'xid' && superseded(e)) continue;
      if (e.kind === 'xid' && e.subject.xidClass !== 'fatal') degrade(() => describe(e));
      else if (e.kind === 'oom_kill' && e.subject.inScope === true)
        degrade(() => `OOM kill in the agent's scope: ${describe(e)}`);
      else if (e.source === 'kmsg' && DEGRADING_KINDS.has(e.kind) && !(e.kind === 'sxid' && e.severity === 'critical'))
        degrade(() => describe(e));
    }
    if (moreDegraded)
      degraded.push(
        `and ${read.complete ? '' : 'more than '}${moreDegraded.toLocaleString('en')} more events like these since ` +
          new Date(sinceMs).toISOString(),
      );
    const out: EventAssessment = {
      critical,
      critical_subjects: criticalSubjects,
      degraded,
      recent: window.slice(0, limit).map((e) => ({
        time: new Date(e.timeMs).toISOString(),
        source: e.source,
        kind: e.kind,
        severity: e.severity,
        message: e.message,
        subject: e.subject,
      })),
      xids: this.xidsOf(read, nowMs),
      kernel_log: this.kernelLog(),
    };
    if (this.inventory && gpus) {
      out.gpu_inventory = this.inventory.check(gpus.seen, gpus.otherwiseHealthy, nowMs);
      if (out.gpu_inventory.problem) crit('gpu_inventory', out.gpu_inventory.problem);
    }
    return out;
  }
}
