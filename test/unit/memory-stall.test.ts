import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../../src/config/schema.js';
import {
  judgeMemoryStalls,
  memoryStallRecommendation,
  type MemoryStallReading,
} from '../../src/health/memory-stall.js';
import { ThresholdTracker } from '../../src/health/thresholds.js';
import { ManualClock } from '../../src/util/clock.js';

const reading = (subject: string, pct: number): MemoryStallReading => ({
  subject,
  scope: subject === 'system' ? 'system' : 'cgroup',
  file: subject === 'system' ? '/proc/pressure/memory' : `/sys/fs/cgroup${subject}/memory.pressure`,
  stall_percent: pct,
  stall_ms: pct * 20,
  window_s: 2,
});

describe('memory stall findings', () => {
  const th = { ...DEFAULT_THRESHOLDS };
  it('defaults an operator would pick: warning at 10 %, critical at 30 %', () => {
    expect([th.memoryStall, th.memoryStallCritical]).toEqual([10, 30]);
  });

  const name =
    'warns over memoryStall, is a critical fault of its own subject ' +
    'over memoryStallCritical, and clears with hysteresis';
  it(name, () => {
    const t = new ThresholdTracker(new ManualClock(), { clearMargin: 0.1, sustainSamples: 3, sustainMs: 10_000 });
    expect(judgeMemoryStalls([reading('/agent', 9.9)], t, th)).toEqual({ breaches: [], faults: [] });
    const warn = judgeMemoryStalls([reading('/agent', 12), reading('system', 3)], t, th);
    expect(warn.breaches.map((b) => [b.metric, b.observed, b.detail])).toEqual([
      ['memoryStall:/agent', 12, 'cgroup /agent'],
    ]);
    expect(warn.faults).toEqual([]);
    expect(memoryStallRecommendation(warn.breaches[0], th.memoryStallCritical).severity).toBe('warning');
    const crit = judgeMemoryStalls([reading('/agent', 45)], t, th);
    expect(crit.faults.map((f) => f.subject)).toEqual(['memory_stall:/agent']);
    expect(crit.faults[0].summary).toMatch(/cgroup \/agent stalled on memory 45\.0% of the last 2\.0 s/);
    const rec = memoryStallRecommendation(crit.breaches[0], th.memoryStallCritical);
    expect(rec.severity).toBe('critical');
    expect(/memory limit.*recoverOperation memory_leak/.test(rec.message)).toBe(true);
    // Still breached just under the limit (hysteresis), cleared below limit * (1 - clearMargin).
    expect(judgeMemoryStalls([reading('/agent', 9.5)], t, th).breaches).toHaveLength(1);
    expect(judgeMemoryStalls([reading('/agent', 8.5)], t, th).breaches).toHaveLength(0);
  });
});
