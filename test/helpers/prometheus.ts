/** Prometheus text exposition for tests: parse a scrape, start exporters on free ports, wait for them. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { CLI } from './mcp.js';

export interface Family {
  type: string;
  /** labels as a canonical key ('a="x",b="y"', sorted) -> value */
  series: Map<string, number>;
}

/** Parses the text format (0.0.4): TYPE lines and samples; label values may hold escaped quotes. */
export function parseExposition(text: string): Map<string, Family> {
  const out = new Map<string, Family>();
  const fam = (name: string) => {
    let f = out.get(name);
    if (!f) out.set(name, (f = { type: 'untyped', series: new Map() }));
    return f;
  };
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      fam(type[1]).type = type[2]!;
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: string[] = [];
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels.push(`${l[1]}="${l[2]}"`);
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    fam(m[1]).series.set(labels.sort().join(','), value);
  }
  return out;
}

/** A TCP port free on 127.0.0.1 now (for tools that cannot be told port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 200 (bounded), returning the body. */
export async function waitForHttp(url: string, timeoutMs = 30_000): Promise<string> {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < timeoutMs) {
    try {
      const r = await fetch(url);
      if (r.ok) return await r.text();
      last = `HTTP ${r.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${last})`);
}

/** `overnight monitor --metrics 0 --json`; resolves with its /metrics URL once it has started. */
export async function startMonitor(
  configFile: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, 'monitor', '--config', configFile, '--metrics', '0', '--json', ...args], {
    env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const t0 = Date.now();
  while (!/"type":"start"/.test(err)) {
    if (child.exitCode !== null) throw new Error(`monitor exited ${child.exitCode}: ${err}`);
    if (Date.now() - t0 > 60_000) throw new Error(`monitor did not start within 60 s: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const start = JSON.parse(err.split('\n').find((l) => l.includes('"type":"start"'))!) as { metrics: string };
  return { child, url: start.metrics, stderr: () => err };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child is gone. */
export async function stopChild(child: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(t);
}
