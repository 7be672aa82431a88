/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Renders a report file in Debian's chromium (puppeteer-core) with the network disabled, and
 * returns what a person would see; keeps a screenshot next to the file and in test-artifacts/.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';
import { root } from './isolated.js';

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

export interface RenderedReport {
  errors: string[];
  requests: string[];
  plots: number;
  canvases: { id: string; canvas: boolean; w: number }[];
  inked: number;
  verdict: string;
  summary: string;
  kinds: string[];
  events: string;
  tasks: string;
  recoveries: string;
  alerts: string;
  screenshot: string;
}

export async function renderInChromium(html: string, artifactName: string): Promise<RenderedReport> {
  const dir = path.dirname(html);
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: path.join(dir, `profile-${artifactName}`),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
  try {
    const page = await browser.newPage();
    // Network disabled: the page is offline, and any request other than the file itself fails.
    await page.setOfflineMode(true);
    const requests: string[] = [];
    const url = pathToFileURL(html).href;
    await page.setRequestInterception(true);
    page.on('request', (req) => {
      if (req.url() === url) return void req.continue();
      requests.push(req.url());
      void req.abort();
    });
    const errors: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    page.on('pageerror', (err) => errors.push(String(err)));
    await page.setViewport({ width: 1200, height: 900 });
    await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
    await page.waitForSelector('body[data-plots]', { timeout: 60_000 });
    const seen = await page.evaluate(() => ({
      plots: Number(document.body.dataset.plots),
      canvases: [...document.querySelectorAll('.plot')].map((p) => ({
        id: (p as HTMLElement).dataset.plot ?? '',
        canvas: !!p.querySelector('canvas'),
        w: p.querySelector('canvas')?.width ?? 0,
      })),
      // Pixels of the memory plot that are not white: the lines were drawn.
      inked: (() => {
        const c = document.querySelector<HTMLCanvasElement>('[data-plot="memory"] canvas');
        if (!c) return 0;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200)) n++;
        return n;
      })(),
      verdict: document.getElementById('summary')!.dataset.verdict ?? '',
      summary: document.getElementById('summary')!.innerText,
      kinds: [...document.querySelectorAll('details.kind')].map((d) => (d as HTMLElement).dataset.kind ?? ''),
      events: document.getElementById('events')!.innerText,
      tasks: document.getElementById('tasks')!.innerText,
      recoveries: document.getElementById('recoveries')!.innerText,
      alerts: document.getElementById('alerts')!.innerText,
    }));
    const screenshot = path.join(dir, `${artifactName}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    mkdirSync(path.join(root, 'test-artifacts'), { recursive: true });
    copyFileSync(screenshot, path.join(root, 'test-artifacts', `${artifactName}.png`));
    return { errors, requests, screenshot, ...seen };
  } finally {
    await browser.close();
  }
}
