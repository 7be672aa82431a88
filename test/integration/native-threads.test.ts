import { describe, expect, it } from 'vitest';
import { Sampler } from '../../src/sampler/sampler.js';

/** Waits (bounded) until the sampler has taken `n` samples, so its thread is asleep on a deadline. */
async function untilSampled(s: Sampler, n: number, limitMs = 20_000): Promise<void> {
  const end = Date.now() + limitMs;
  let seen = 0;
  while (Date.now() < end) {
    seen += s.read().count;
    if (seen >= n) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the sampler took ${seen} of ${n} samples within ${limitMs} ms`);
}

describe('native threads', () => {
  it('Sampler.stop() wakes the sampling thread instead of waiting out its interval', async () => {
    // At a 60 s interval a stop() that waited for the thread's next deadline would take up to a
    // minute; woken, it takes scheduling latency. The bound is generous for a loaded machine and
    // still 30x below what the old sleep would cost on average.
    const durations: number[] = [];
    for (const intervalUs of [1_000_000, 60_000_000]) {
      const s = new Sampler({ intervalUs, signals: ['memory'] }).start();
      try {
        await untilSampled(s, 1);
        await new Promise((r) => setTimeout(r, 50)); // the thread is now waiting for its next deadline
        const t0 = performance.now();
        s.stop();
        durations.push(performance.now() - t0);
      } finally {
        s.stop();
      }
    }
    expect(durations[1]).toBeLessThan(1_000);
    expect(durations[0]).toBeLessThan(500);
    process.stderr.write(`stop() at 1 s: ${durations[0].toFixed(2)} ms, at 60 s: ${durations[1].toFixed(2)} ms\n`);
  });
});
