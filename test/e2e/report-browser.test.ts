/**
 * The morning report of a scripted night, rendered by a real browser (Debian's chromium through
 * puppeteer-core) with every network request refused: the plots draw, no console error occurs, and
 * the night's events, recovery, alert and task appear. A screenshot is kept for a person to look at
 * (in the test's temp dir and in test-artifacts/).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { haveChromium, renderInChromium } from '../helpers/browser.js';
import { uniqueMarker } from '../helpers/kmsg.js';
import { CLI } from '../helpers/mcp.js';
import { seedNight } from '../helpers/night.js';

const run = promisify(execFile);

describe.skipIf(!haveChromium)('the HTML report in headless Chromium', () => {
  it("draws every plot offline with the night's events, recovery, alert and task; no console error", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ovn-report-'));
    const m = uniqueMarker();
    const night = await seedNight(path.join(dir, 'state'), 8, m);
    const config = path.join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ stateDir: path.join(dir, 'state'), kernelLog: { enabled: false } }));
    const html = path.join(dir, 'night.html');
    const env = { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' };
    const r = await run(
      process.execPath,
      [CLI, 'report', '--since', '9h', '--out', html, '--json', '--config', config],
      { env, timeout: 120_000, maxBuffer: 64 * 2 ** 20 },
    );
    const data = JSON.parse(r.stdout) as {
      series: { t: number[] };
      events: { kind: string }[];
      recoveries: unknown[];
      tasks: { task_id: string }[];
      alerts: unknown[];
      summary: { verdict: string; lines: string[] };
    };
    expect(data.series.t.length).toBe(night.rows);
    // The report command notes this boot too (a `boot` event when the machine booted within 9 h).
    const notBoot = (k: string | undefined) => k !== 'boot';
    expect(
      data.events
        .map((e) => e.kind)
        .filter(notBoot)
        .sort(),
    ).toEqual([...night.kinds].sort());
    expect(data.recoveries).toHaveLength(1);
    expect(data.alerts).toHaveLength(1);
    expect(data.tasks.map((t) => t.task_id)).toEqual([night.taskId]);
    expect(data.summary.verdict).toBe('bad'); // the Xid 79

    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/<script[^>]+src=|<link[^>]+href=|@import|url\(http/i);

    const seen = await renderInChromium(html, 'night-report');
    const { errors, requests } = seen;
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    expect(seen.plots).toBe(5); // memory, cpu, psi, gpu0, the task
    expect(seen.canvases.map((c) => c.id)).toEqual(['memory', 'cpu', 'psi', 'gpu0', `task:${night.taskId}`]);
    expect(seen.canvases.every((c) => c.canvas && c.w > 300)).toBe(true);
    expect(seen.inked).toBeGreaterThan(1000);
    expect(seen.verdict).toBe('bad');
    expect(seen.summary).toMatch(/The night went badly/);
    expect(seen.kinds.filter(notBoot).sort()).toEqual([...night.kinds].sort());
    for (const k of night.kinds) expect(seen.events).toContain(k);
    expect(seen.events).toContain(`name=${m}, GPU has fallen off the bus`);
    expect(seen.tasks).toContain(night.taskId);
    expect(seen.tasks).toContain('80%');
    expect(seen.recoveries).toContain(`ended leaking pid 4104 (${m})`);
    expect(seen.alerts).toContain(`memory leak in ${m} recovered`);
    expect(readFileSync(seen.screenshot).subarray(1, 4).toString()).toBe('PNG');
  }, 180_000);
});
