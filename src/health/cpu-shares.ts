/**
 * Per-process CPU shares between two scans of the process table (what `top` shows): CPU seconds
 * gained over wall seconds passed. A pid that was reused in between (another starttime) starts over.
 */
import type { ProcessSample } from '../native.js';
import { cpuSeconds } from '../readers/processes.js';

export class CpuShares {
  private prev = new Map<number, { cpuSec: number; starttime: number; t: number }>();

  /** Shares since the previous update (none for a process seen for the first time); `now` in ms. */
  update(table: ProcessSample[], now: number): Map<number, number> {
    const share = new Map<number, number>();
    const next = new Map<number, { cpuSec: number; starttime: number; t: number }>();
    for (const p of table) {
      const cpuSec = cpuSeconds(p);
      const prev = this.prev.get(p.pid);
      if (prev && prev.starttime === p.starttime && now > prev.t)
        share.set(p.pid, (cpuSec - prev.cpuSec) / ((now - prev.t) / 1000));
      next.set(p.pid, { cpuSec, starttime: p.starttime, t: now });
    }
    this.prev = next;
    return share;
  }
}
