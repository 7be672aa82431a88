/**
 * The kernel log, watched: native records (read on the addon's own thread) matched by the catalog
 * and stored as events. The cursor (last sequence stored in this boot) is committed with the
 * events of each batch, so a restarted process resumes with no duplicates and no gaps; records the
 * ring buffer overwrote before anyone read them are stored as one `kmsg_lost` event per range.
 */
import { readFileSync } from 'node:fs';
import type { KmsgBatch, KmsgRecord, NativeBinding } from '../native-types.js';
import { monoUsToWallMs, type BootInfo } from './boots.js';
import type { EventStore } from './event-store.js';
import { matchKernelLine, type MatchContext } from './kmsg-matcher.js';
import type { NodeEvent } from './types.js';

export interface KernelLogStatus {
  available: boolean;
  path: string;
  /** Why the log cannot be read (EPERM/EACCES: the capability needed). */
  reason?: string;
  code?: string;
  /** Last sequence number read in this boot (-1: none yet). */
  lastSeq: number;
  records: number;
  events: number;
  overruns: number;
  lostRecords: number;
}

export interface KernelLogWatcherOptions {
  native: Pick<NativeBinding, 'KernelLogReader'>;
  store: EventStore;
  boot: BootInfo;
  path?: string;
  /** GPU bus ids and the process history, asked at match time. */
  matchContext?: () => MatchContext;
  /** Called with the new events of each batch (after they were stored). */
  onEvents?: (events: NodeEvent[]) => void;
  log?: (message: string) => void;
}

function dmesgRestrict(): string {
  try {
    return readFileSync('/proc/sys/kernel/dmesg_restrict', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/** The reason a reader cannot open the log, with the capability that would let it. */
export function unavailableReason(path: string, err: Error & { code?: string }): string {
  if (err.code === 'EPERM' || err.code === 'EACCES')
    return (
      `${err.code}: cannot read ${path}: reading the kernel log needs CAP_SYSLOG while ` +
      `kernel.dmesg_restrict = ${dmesgRestrict()} (run as root, grant CAP_SYSLOG, or set ` +
      `kernel.dmesg_restrict = 0)`
    );
  return `${err.code ?? 'ERROR'}: cannot read ${path}: ${err.message}`;
}

/** One record as an event, or null when the catalog does not know the line. */
export function recordToEvent(r: KmsgRecord, boot: BootInfo, ctx: MatchContext = {}): NodeEvent | null {
  const m = matchKernelLine(r.text, r.facility, ctx);
  if (!m) return null;
  return {
    source: 'kmsg',
    kind: m.kind,
    severity: m.severity,
    subject: { ...m.subject, seq: r.seq, level: r.level },
    message: r.text,
    bootId: boot.bootId,
    monoUs: r.monoUs,
    timeMs: monoUsToWallMs(r.monoUs),
    key: `kmsg:${boot.bootId}:${r.seq}`,
  };
}

export class KernelLogWatcher {
  private reader: { stop(): void } | null = null;
  private readonly st: KernelLogStatus;
  private caughtUp = false;
  /** Set by stop(): a batch the native reader had already queued is dropped, not stored into a closing database. */
  private stopped = false;
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly o: KernelLogWatcherOptions) {
    this.st = {
      available: false,
      path: o.path ?? '/dev/kmsg',
      lastSeq: -1,
      records: 0,
      events: 0,
      overruns: 0,
      lostRecords: 0,
    };
  }

  /** Opens the log and starts the reader thread; never throws for an unreadable log. */
  start(): KernelLogStatus {
    if (this.reader) return this.status();
    this.stopped = false;
    const afterSeq = this.o.store.kmsgCursor(this.o.boot.bootId);
    this.st.lastSeq = afterSeq;
    try {
      this.reader = new this.o.native.KernelLogReader(this.st.path, { afterSeq }, (b) => this.onBatch(b));
      this.st.available = true;
      delete this.st.reason;
      delete this.st.code;
    } catch (err) {
      const e = err as Error & { code?: string };
      this.st.available = false;
      this.st.code = e.code;
      this.st.reason = unavailableReason(this.st.path, e);
      this.o.log?.(`overnight: kernel log unavailable: ${this.st.reason}`);
    }
    return this.status();
  }

  stop(): void {
    this.stopped = true;
    this.reader?.stop();
    this.reader = null;
    this.wake();
  }

  /**
   * Resolves once everything the log held when the reader started is stored (or the log is
   * unavailable, or `timeoutMs` passed): what a one-shot command waits for before it reads the history.
   */
  async caughtUpWith(timeoutMs = 10_000): Promise<KernelLogStatus> {
    if (!this.caughtUp && this.reader) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.status();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  status(): KernelLogStatus {
    return { ...this.st };
  }

  private onBatch(b: KmsgBatch): void {
    if (this.stopped) return;
    const boot = this.o.boot;
    const ctx = this.o.matchContext?.() ?? {};
    const events: NodeEvent[] = [];
    for (const lost of b.lost) {
      const n = lost.to - lost.from + 1;
      this.st.lostRecords += n;
      events.push({
        source: 'kmsg',
        kind: 'kmsg_lost',
        severity: 'warning',
        subject: { seqFrom: lost.from, seqTo: lost.to, count: n },
        message:
          `${n} kernel log record(s) lost (sequence ${lost.from}-${lost.to}): the ring buffer overwrote ` +
          `them before they were read`,
        bootId: boot.bootId,
        monoUs: null,
        timeMs: Date.now(),
        key: `kmsg-lost:${boot.bootId}:${lost.from}`,
      });
    }
    for (const r of b.records) {
      const e = recordToEvent(r, boot, ctx);
      if (e) events.push(e);
    }
    this.st.records += b.records.length;
    this.st.overruns += b.overruns;
    const last = b.records.length ? b.records[b.records.length - 1]!.seq : -1;
    if (last > this.st.lastSeq) this.st.lastSeq = last;
    try {
      const fresh = this.o.store.add(events, last >= 0 ? { bootId: boot.bootId, seq: last } : undefined);
      this.st.events += fresh.length;
      if (fresh.length) this.o.onEvents?.(fresh);
    } catch (err) {
      this.o.log?.(`overnight: storing kernel events failed: ${(err as Error).message}`);
    }
    if (b.error) {
      this.st.available = false;
      this.st.code = b.error.code;
      this.st.reason = unavailableReason(this.st.path, b.error);
      this.reader = null;
    } else if (b.ended) {
      this.reader = null;
    }
    if (b.caughtUp || b.error || b.ended) {
      this.caughtUp = true;
      this.wake();
    }
  }
}
