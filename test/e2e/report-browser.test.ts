/**
 * The morning report of a scripted night, rendered by a real browser (Debian's chromium through
 * puppeteer-core) with every network request refused: the plots draw, no console error occurs, and
 * the night's events, recovery, alert and task appear. A screenshot is kept for a person to look at
 * (in the test's temp dir and in test-artifacts/).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, describe, expect, it } from 'vitest';
import { root } from '../helpers/isolated.js';
import { uniqueMarker } from '../helpers/kmsg.js';
import { CLI } from '../helpers/mcp.js';
import { seedNight } from '../helpers/night.js';

const CHROMIUM = '/usr/bin/chromium';
const run = promisify(execFile);
let browser: Browser | undefined;
afterAll(async () => browser?.close());

describe.skipIf(!existsSync(CHROMIUM))('the HTML report in headless Chromium', () => {
  it('draws every plot offline with the scripted night\'s events, recovery, alert and task, and no console error', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ovn-report-'));
    const m = uniqueMarker();
    const night = await seedNight(path.join(dir, 'state'), 8, m);
    const config = path.join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ stateDir: path.join(dir, 'state'), kernelLog: { enabled: false } }));
    const html = path.join(dir, 'night.html');
    const env = { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' };
    const r = await run(process.execPath, [CLI, 'report', '--since', '9h', '--out', html, '--json', '--config', config], { env, timeout: 120_000, maxBuffer: 64 * 2 ** 20 });
    const data = JSON.parse(r.stdout) as { series: { t: number[] }; events: { kind: string }[]; recoveries: unknown[]; tasks: { task_id: string }[]; alerts: unknown[]; summary: { verdict: string; lines: string[] } };
    expect(data.series.t.length).toBe(night.rows);
    // The report command notes this boot too (a `boot` event when the machine booted within 9 h).
    const notBoot = (k: string | undefined) => k !== 'boot';
    expect(data.events.map((e) => e.kind).filter(notBoot).sort()).toEqual([...night.kinds].sort());
    expect(data.recoveries).toHaveLength(1);
    expect(data.alerts).toHaveLength(1);
    expect(data.tasks.map((t) => t.task_id)).toEqual([night.taskId]);
    expect(data.summary.verdict).toBe('bad'); // the Xid 79

    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/<script[^>]+src=|<link[^>]+href=|@import|url\(http/i);

    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: path.join(dir, 'profile'),
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    });
    const page = await browser.newPage();
    // Network disabled: the page is offline, and any request other than the file itself fails.
    await page.setOfflineMode(true);
    const requests: string[] = [];
    await page.setRequestInterception(true);
    page.on('request', (req) => {
      if (req.url() === pathToFileURL(html).href) return void req.continue();
      requests.push(req.url());
      void req.abort();
    });
    const errors: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    page.on('pageerror', (err) => errors.push(String(err)));
    await page.setViewport({ width: 1200, height: 900 });
    await page.goto(pathToFileURL(html).href, { waitUntil: 'load', timeout: 60_000 });
    await page.waitForSelector('body[data-plots]', { timeout: 60_000 });

    const seen = await page.evaluate(() => ({
      plots: Number(document.body.dataset.plots),
      canvases: [...document.querySelectorAll('.plot')].map((p) => ({ id: (p as HTMLElement).dataset.plot, canvas: !!p.querySelector('canvas'), w: p.querySelector('canvas')?.width ?? 0 })),
      // Pixels that are not white in the memory plot's canvas: the lines were drawn.
      inked: (() => {
        const c = document.querySelector('[data-plot="memory"] canvas') as HTMLCanvasElement;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i + 3]! > 0 && (d[i]! < 200 || d[i + 1]! < 200 || d[i + 2]! < 200)) n++;
        return n;
      })(),
      verdict: document.getElementById('summary')!.dataset.verdict,
      summary: document.getElementById('summary')!.innerText,
      kinds: [...document.querySelectorAll('details.kind')].map((d) => (d as HTMLElement).dataset.kind),
      events: document.getElementById('events')!.innerText,
      tasks: document.getElementById('tasks')!.innerText,
      recoveries: document.getElementById('recoveries')!.innerText,
      alerts: document.getElementById('alerts')!.innerText,
    }));
    const shot = path.join(dir, 'night.png');
    await page.screenshot({ path: shot, fullPage: true });
    mkdirSync(path.join(root, 'test-artifacts'), { recursive: true });
    copyFileSync(shot, path.join(root, 'test-artifacts', 'night-report.png'));

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
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
  }, 180_000);
});
