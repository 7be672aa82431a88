/**
 * The ProcessWatch's histories come from the shared Sampler's process channel: with the server's
 * background sampling on, leak slopes and hang windows fill without anyone calling observe().
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createOvernightContext, type OvernightContext } from '../../src/context.js';
import { firstLine, killAll, scripts, spawnNode, waitFor } from '../helpers/children.js';

let ctx: OvernightContext;
beforeAll(async () => {
  ctx = await createOvernightContext({
    config: parseConfig({
      stateDir: mkdtempSync(path.join(tmpdir(), 'ovn-watch-')),
      sampleIntervalMs: 100,
      kernelLog: { enabled: false }, // not about the (shared) kernel log
      watch: {
        intervalSec: 0.2,
        warmupSec: 0,
        leakMinWindowSec: 2,
        leakMinSlopeMbPerMin: 100,
        leakMinR2: 0.8,
        noProgressSec: 1,
      },
    }),
    health: { gpu: null },
    identity: { scopeRoot: process.pid, selfPid: process.pid },
    background: true,
  });
});
afterAll(async () => {
  killAll();
  await ctx.close();
});

describe('ProcessWatch on the shared sampler', () => {
  it("builds leak slopes and hang windows from the sampler thread's periodic scans", async () => {
    const leaker = spawnNode(scripts.leak(50));
    const idle = spawnNode(scripts.idle());
    await Promise.all([firstLine(leaker), firstLine(idle)]);
    // Nobody calls observe(): the scanner thread scans every 0.2 s, the watch drains its scans.
    await waitFor(() => ctx.watch.leakSuspects().some((s) => s.pid === leaker.pid), 15_000, 100);
    await waitFor(() => ctx.watch.hangSuspects().some((h) => h.pid === idle.pid), 15_000, 100);
    const sampler = ctx.health.backgroundSampler!;
    const snap = sampler.snapshot();
    expect(snap.readIntervalsUs.processes).toBe(200_000);
    const points = ctx.watch.history(leaker.pid!);
    expect(points.length).toBeGreaterThanOrEqual(8);
    // Every point is one of the sampler's scans (none taken separately), in time order.
    expect(points.length).toBeLessThanOrEqual(snap.processScans);
    // The watch's timer drains and does not add scans of its own: about one scan a period (the
    // scanner never scans faster than its period; the first scan and a late timer may add a couple).
    expect(snap.processScans).toBeLessThanOrEqual((snap.durationMs / 200) * 1.25 + 3);
    for (let i = 1; i < points.length; i++) expect(points[i].t).toBeGreaterThan(points[i - 1].t);
    // The same sampler feeds the thresholds: host samples at 10 Hz.
    expect(snap.samples).toBeGreaterThan(10);
    expect(ctx.watch.hangSuspects().find((h) => h.pid === idle.pid)!.reason).toMatch(
      /no CPU time, context switches or io/,
    );
    expect(ctx.watch.leakSuspects().some((s) => s.pid === idle.pid)).toBe(false);
  });
});
