/**
 * After a burst of processes ends, the watch retains nothing of them: no histories, no hang state,
 * no unread scans in the sampler's process channel, and the freed memory is given back once. A
 * monitor that lived through 2,000 `sleep` children stayed at 195 MB RSS (63 MB before) for good.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ProcessWatch } from '../../src/recovery/process-watch.js';
import { Sampler } from '../../src/sampler/sampler.js';
import { systemClock } from '../../src/util/clock.js';
import { killAll, spawnGroup, waitFor } from '../helpers/children.js';

const N = 400;

let sampler: Sampler | undefined;
let watch: ProcessWatch | undefined;
afterEach(() => {
  killAll();
  watch?.stop();
  sampler?.stop();
  watch = sampler = undefined;
});

describe('ProcessWatch after a burst of processes', () => {
  it(`drops every trace of ${N} exited children and trims the heap once`, async () => {
    const config = parseConfig({
      stateDir: mkdtempSync(path.join(tmpdir(), 'ovn-burst-')),
      kernelLog: { enabled: false },
      watch: { intervalSec: 0.2 },
    });
    let released = 0;
    watch = new ProcessWatch({
      config,
      clock: systemClock,
      scopeRoot: process.pid,
      releaseMemory: () => {
        released++;
        return Promise.resolve(true);
      },
    });
    sampler = new Sampler({
      intervalUs: 1_000_000,
      signals: [],
      processes: { descendantsOf: process.pid, intervalUs: 200_000 },
    }).start();
    watch.start(200, sampler);
    // One shell in its own process group starts the sleeps; killAll() ends the whole group.
    const burst = spawnGroup('sh', ['-c', `i=0; while [ $i -lt ${N} ]; do sleep 600 & i=$((i+1)); done; wait`]);
    await waitFor(() => watch!.stats().watched >= N, 60_000, 50);
    const during = watch.stats();
    expect(during.hangTracks).toBeGreaterThanOrEqual(N);
    expect(during.peak).toBeGreaterThanOrEqual(N);
    expect(released).toBe(0);
    // The scans the watch has read are not kept by the channel.
    await watch.observe(0);
    expect(sampler.heldProcessRows()).toBe(0);

    process.kill(-burst.pid!, 'SIGKILL');
    await waitFor(() => watch!.stats().watched <= 2, 60_000, 50);
    // 10 s after the burst ended, the heap is trimmed once and the peak restarts from what exists.
    await waitFor(() => released > 0, 60_000, 100);
    const after = watch.stats();
    expect(after.watched).toBeLessThanOrEqual(2);
    expect(after.hangTracks).toBeLessThanOrEqual(2);
    expect(after.points).toBeLessThanOrEqual(2 * 600);
    expect(after.peak).toBeLessThanOrEqual(2);
    expect(after.trims).toBe(1);
    expect(released).toBe(1);
    await watch.observe(0);
    expect(sampler.heldProcessRows()).toBe(0);
    // No second trim while nothing else ends.
    const scans = sampler.snapshot().processScans;
    await waitFor(() => sampler!.snapshot().processScans >= scans + 5, 30_000, 50);
    expect(watch.stats().trims).toBe(1);
  }, 150_000);
});
