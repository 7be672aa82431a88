import { describe, expect, it } from 'vitest';
import { estimateEta, type Point } from '../../src/progress/eta.js';

const H = 3600_000;
const every = (from: number, to: number, step: number, c: (t: number) => number): Point[] => {
  const out: Point[] = [];
  for (let t = from; t <= to; t += step) out.push({ t, c: Math.min(1, c(t)) });
  return out;
};
const remainingOf = (r: ReturnType<typeof estimateEta>) => (r.estimate ? r.estimate.seconds_remaining : NaN);

// Bounds: steady and restarted within 5 %, rate changes within 30 % once 4 checkpoints follow the change.
describe('ETA on synthetic timelines', () => {
  it('steady: within 5 % of the truth, with the truth inside the confidence band', () => {
    const noise = (t: number) => ((t / 600_000) % 3 === 0 ? 0.002 : -0.001);
    const pts = every(0, 3 * H, 600_000, (t) => t / (10 * H) + noise(t));
    const r = estimateEta(pts, 3 * H);
    const truth = 7 * 3600;
    expect(Math.abs(remainingOf(r) - truth) / truth).toBeLessThan(0.05);
    expect(r.estimate!.method).toBe('regression');
    expect(r.estimate!.confidence.low_seconds).toBeLessThanOrEqual(truth);
    expect(r.estimate!.confidence.high_seconds!).toBeGreaterThanOrEqual(truth);
  });

  it('speeding up: follows the new rate within 30 %', () => {
    // 10 %/h for 4 h, then 20 %/h
    const c = (t: number) => (t <= 4 * H ? (0.1 * t) / H : 0.4 + (0.2 * (t - 4 * H)) / H);
    const now = 5 * H;
    const pts = every(0, now, 900_000, c);
    const truth = ((1 - c(now)) / 0.2) * 3600;
    expect(Math.abs(remainingOf(estimateEta(pts, now)) - truth) / truth).toBeLessThan(0.3);
  });

  it('slowing down: follows the new rate within 30 %', () => {
    const c = (t: number) => (t <= 2 * H ? (0.2 * t) / H : 0.4 + (0.05 * (t - 2 * H)) / H);
    const now = 4 * H;
    const pts = every(0, now, 900_000, c);
    const truth = ((1 - c(now)) / 0.05) * 3600;
    expect(Math.abs(remainingOf(estimateEta(pts, now)) - truth) / truth).toBeLessThan(0.3);
  });

  it('stalled: time without checkpoints counts as no progress; flat completion gives no estimate', () => {
    const pts = every(0, 3 * H, 600_000, (t) => t / (10 * H));
    const fresh = remainingOf(estimateEta(pts, 3 * H));
    const stale = remainingOf(estimateEta(pts, 6 * H));
    expect(stale).toBeGreaterThan(fresh);
    const flat = [...pts, ...every(3 * H + 600_000, 5 * H, 600_000, () => 0.3)];
    const r = estimateEta(flat, 5 * H);
    expect(r.estimate).toBeNull();
    expect((r as { reason: string }).reason).toMatch(/not rising/);
  });

  it('restarted: uses only the checkpoints after the restart', () => {
    const before = every(0, 4 * H, 600_000, (t) => t / (10 * H));
    const after = every(4 * H + 600_000, 6 * H, 600_000, (t) => (t - 4 * H) / (8 * H));
    const now = 6 * H;
    const truth = 6 * 3600;
    expect(Math.abs(remainingOf(estimateEta([...before, ...after], now)) - truth) / truth).toBeLessThan(0.05);
  });

  it('needs two checkpoints; says why otherwise; done means zero', () => {
    expect((estimateEta([], 0) as { reason: string }).reason).toMatch(/no checkpoints/);
    expect((estimateEta([{ t: 0, c: 0.1 }], 0) as { reason: string }).reason).toMatch(/two/);
    expect(estimateEta([{ t: 0, c: 0.1 }, { t: H, c: 0.3 }], H).estimate!.method).toBe('ema');
    expect(estimateEta([{ t: 0, c: 0.5 }, { t: H, c: 1 }], 2 * H).estimate!.seconds_remaining).toBe(0);
  });
});
