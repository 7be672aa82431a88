/**
 * Hang detection from progress counters, after the kernel's hung-task rule: a process is hung when
 * it is stopped (T), in uninterruptible sleep (D) longer than a limit, or has made no progress —
 * CPU time, context switches and io counters all still — for longer than a limit, or when its task's
 * heartbeat file has gone stale. A process whose CPU time moves is busy, never hung.
 */
import type { ProcessSample } from '../native.js';

export interface HangOptions {
  dStateMs: number;
  /** 0 disables the no-progress rule. */
  noProgressMs: number;
}

interface Track {
  starttime: number;
  counters: string;
  lastChange: number;
  state: string;
  stateSince: number;
}

export interface HangVerdict {
  hung: boolean;
  reason: string;
  noProgressSec: number;
}

function progressKey(p: ProcessSample): string {
  const io = p.io ? `${p.io.rchar}/${p.io.wchar}/${p.io.syscr}/${p.io.syscw}` : '-';
  return `${p.utime + p.stime}/${p.voluntaryCtxSwitches ?? '-'}/${p.nonvoluntaryCtxSwitches ?? '-'}/${io}`;
}

export class HangDetector {
  private readonly tracks = new Map<number, Track>();

  constructor(private readonly opts: HangOptions) {}

  /** Records a sample of a process taken at time `now`. */
  observe(p: ProcessSample, now: number): void {
    const key = progressKey(p);
    const t = this.tracks.get(p.pid);
    if (!t || t.starttime !== p.starttime) {
      this.tracks.set(p.pid, {
        starttime: p.starttime,
        counters: key,
        lastChange: now,
        state: p.state,
        stateSince: now,
      });
      return;
    }
    if (t.counters !== key) {
      t.counters = key;
      t.lastChange = now;
    }
    if (t.state !== p.state) {
      t.state = p.state;
      t.stateSince = now;
    }
  }

  /** Processes tracked now. */
  get size(): number {
    return this.tracks.size;
  }

  /** Drops processes that were not seen in the latest scan. */
  retain(pids: Set<number>): void {
    for (const pid of this.tracks.keys()) if (!pids.has(pid)) this.tracks.delete(pid);
  }

  verdict(pid: number, now: number): HangVerdict {
    const t = this.tracks.get(pid);
    if (!t) return { hung: false, reason: 'not watched', noProgressSec: 0 };
    const still = (now - t.lastChange) / 1000;
    const inState = (now - t.stateSince) / 1000;
    if (t.state === 'T' || t.state === 't')
      return { hung: true, reason: `stopped (state ${t.state}) for ${Math.round(inState)} s`, noProgressSec: still };
    if (t.state === 'D' && now - t.stateSince >= this.opts.dStateMs)
      return { hung: true, reason: `in uninterruptible sleep (D) for ${Math.round(inState)} s`, noProgressSec: still };
    if (t.state === 'Z')
      return { hung: false, reason: 'zombie: exited, waiting for its parent to reap it', noProgressSec: still };
    if (this.opts.noProgressMs > 0 && now - t.lastChange >= this.opts.noProgressMs)
      return {
        hung: true,
        reason: `no CPU time, context switches or io for ${Math.round(still)} s`,
        noProgressSec: still,
      };
    return {
      hung: false,
      reason: t.state === 'R' || now - t.lastChange < 2000 ? 'making progress' : `idle for ${Math.round(still)} s`,
      noProgressSec: still,
    };
  }
}
