import { describe, expect, it } from 'vitest';
import { medianPairwiseSlope } from '../../src/recovery/median-slope.js';
import { quantile } from '../../src/util/stats.js';

/** The definition the selection must reproduce bit for bit: the sorted pairwise slopes' quantile(0.5). */
function reference(xs: number[], ys: number[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < xs.length; i++)
    for (let j = i + 1; j < xs.length; j++) if (xs[j] !== xs[i]) slopes.push((ys[j] - ys[i]) / (xs[j] - xs[i]));
  return quantile(slopes, 0.5) ?? 0;
}

/** A small deterministic PRNG (mulberry32): the cases are the same on every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('median pairwise slope (Theil–Sen) by selection', () => {
  it('equals the sorted definition exactly: odd and even pair counts, ties, repeated x, plateaus, noise', () => {
    const r = rng(17);
    const shapes: ((i: number) => number)[] = [
      (i) => 1e6 * i, // a steady leak (sorted slopes: the worst case of a naive pivot)
      (i) => -3e5 * i, // shrinking
      () => 5e8, // flat: every slope 0
      (i) => (i < 40 ? 1e6 * i : 4e7), // growth then plateau
      (i) => (i < 60 ? 1e8 : 3e8), // one step
      (i) => 2e6 * i + (r() - 0.5) * 5e7, // noisy leak
      () => Math.round(r() * 4) * 4096, // few distinct values: many equal slopes
    ];
    let cases = 0;
    for (const n of [0, 1, 2, 3, 4, 5, 7, 16, 33, 120]) {
      for (const f of shapes) {
        const xs = Array.from({ length: n }, (_, i) => i * 0.0833);
        // Repeated x (two scans in the same millisecond) are skipped by both.
        if (n > 6) xs[3] = xs[2]!;
        const ys = xs.map((_, i) => f(i));
        expect(medianPairwiseSlope(xs, ys)).toBe(reference(xs, ys));
        cases++;
      }
    }
    for (let k = 0; k < 200; k++) {
      const n = 2 + Math.floor(r() * 119);
      const xs = Array.from({ length: n }, () => Math.round(r() * 50) / 10).sort((a, b) => a - b);
      const ys = xs.map(() => Math.round(r() * 20) * 1e5);
      expect(medianPairwiseSlope(xs, ys)).toBe(reference(xs, ys));
      cases++;
    }
    expect(cases).toBe(270);
  });

  it('a shorter series after a longer one uses only its own pairs (the scratch buffer is reused)', () => {
    const long = Array.from({ length: 120 }, (_, i) => i);
    expect(
      medianPairwiseSlope(
        long,
        long.map((x) => 9 * x),
      ),
    ).toBe(9);
    expect(medianPairwiseSlope([0, 1, 2], [0, 1, 2])).toBe(1);
    expect(medianPairwiseSlope([0, 1], [5, 3])).toBe(-2);
  });
});
