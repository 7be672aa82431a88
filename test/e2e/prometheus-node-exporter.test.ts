/**
 * Our node_* series against the real prometheus-node-exporter, scraped at the same moment: same
 * name, TYPE, labels, and values within the tolerances below; `promtool check metrics` on a live
 * scrape; and the node series collected at scrape time (the monitor's cycle is 300 s here).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeConfig } from '../helpers/mcp.js';
import { freePort, parseExposition, startMonitor, stopChild, waitForHttp, type Family } from '../helpers/prometheus.js';

const EXPORTER = '/usr/bin/prometheus-node-exporter';
const haveExporter = spawnSync(EXPORTER, ['--version']).status === 0;
const havePromtool = spawnSync('promtool', ['--version']).status === 0;
const root = process.getuid?.() === 0;
const MiB = 2 ** 20;

/**
 * How far two reads a few milliseconds apart may differ on a shared, busy node. Exact where the
 * source cannot move (totals, sizes, loadavg's two decimals, read-only flags).
 */
function tolerance(name: string): number {
  if (/^node_memory_(MemTotal|SwapTotal)_bytes$/.test(name)) return 0;
  if (name.startsWith('node_memory_')) return 64 * MiB; // page cache and anon memory move while 7 others build
  if (name.startsWith('node_load')) return 0.005;
  if (name.startsWith('node_pressure_')) return 0.25; // seconds: a counter rising at most ~1 s/s, reads < 250 ms apart
  if (name === 'node_filesystem_size_bytes' || name === 'node_filesystem_readonly') return 0;
  if (name === 'node_filesystem_files') return 0;
  if (name === 'node_filesystem_files_free') return 10_000;
  if (name.startsWith('node_filesystem_')) return 64 * MiB;
  if (name === 'node_filefd_allocated') return 5_000; // every process on the node opens and closes files

  return 0;
}

/** node_exporter 1.5 (Debian 12) does not emit these; newer ones do (compared when present). */
const NEWER_THAN_1_5 = new Set(['node_pressure_cpu_stalled_seconds_total']);

function compare(ours: Map<string, Family>, theirs: Map<string, Family>): { problems: string[]; compared: number } {
  const problems: string[] = [];
  let compared = 0;
  for (const [name, f] of ours) {
    // A family declared without a sample (no InfiniBand port on this node) is no series to compare.
    if (!name.startsWith('node_') || f.series.size === 0) continue;
    const t = theirs.get(name);
    if (!t) {
      if (!NEWER_THAN_1_5.has(name)) problems.push(`${name}: node_exporter has no such metric`);
      continue;
    }
    if (t.type !== f.type) problems.push(`${name}: TYPE ${f.type}, node_exporter ${t.type}`);
    for (const [labels, v] of f.series) {
      const tv = t.series.get(labels);
      if (tv === undefined) {
        problems.push(`${name}{${labels}}: node_exporter has ${[...t.series.keys()].map((k) => `{${k}}`).join(' ')}`);
        continue;
      }
      compared++;
      if (Math.abs(tv - v) > tolerance(name))
        problems.push(`${name}{${labels}}: ours ${v}, node_exporter ${tv} (tolerance ${tolerance(name)})`);
    }
  }
  return { problems, compared };
}

describe.skipIf(!haveExporter)('Prometheus exposition against prometheus-node-exporter', () => {
  let exporter: ChildProcess | undefined;
  let monitor: Awaited<ReturnType<typeof startMonitor>> | undefined;
  let exporterUrl = '';
  let tmpfsDir: string | undefined;
  const dirs: string[] = [];

  beforeAll(async () => {
    // A filesystem of our own, so the mount labels are checked on more than `/` and a write is ours alone.
    if (root) {
      tmpfsDir = mkdtempSync(path.join(tmpdir(), 'ovn-prom-fs-'));
      dirs.push(tmpfsDir);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'overnight-test', tmpfsDir]);
    }
    const { file, dir } = writeConfig({
      // Two paths on the root filesystem must give one series of it.
      paths: ['/', tmpdir(), ...(tmpfsDir ? [tmpfsDir] : [])],
      monitor: { intervalSec: 300 },
    });
    dirs.push(dir);
    monitor = await startMonitor(file);
    const port = await freePort();
    exporterUrl = `http://127.0.0.1:${port}/metrics`;
    // Only the collectors whose series we emit.
    exporter = spawn(
      EXPORTER,
      [
        `--web.listen-address=127.0.0.1:${port}`,
        '--collector.disable-defaults',
        '--collector.meminfo',
        '--collector.loadavg',
        '--collector.pressure',
        '--collector.filesystem',
        '--collector.filefd',
        '--collector.infiniband',
      ],
      { stdio: 'ignore' },
    );
    await waitForHttp(exporterUrl);
    await waitForHttp(monitor.url);
  }, 120_000);

  afterAll(async () => {
    await stopChild(monitor?.child);
    await stopChild(exporter);
    if (tmpfsDir) spawnSync('umount', [tmpfsDir]);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("emits every node_* series with node_exporter's name, TYPE, labels and value", async () => {
    // Scraped at the same moment. A loadavg or PSI update can fall between the two reads; a pair
    // that straddles one is scraped again (up to 5 pairs), and one pair must agree entirely.
    let last: { problems: string[]; compared: number } = { problems: ['not scraped'], compared: 0 };
    let ours = new Map<string, Family>();
    for (let i = 0; i < 5 && last.problems.length; i++) {
      const [a, b] = await Promise.all([
        fetch(monitor!.url).then((r) => r.text()),
        fetch(exporterUrl).then((r) => r.text()),
      ]);
      ours = parseExposition(a);
      last = compare(ours, parseExposition(b));
    }
    expect(last.problems).toEqual([]);
    // meminfo (17) + loadavg (3) + pressure (5) + filesystem (6 per filesystem)
    expect(last.compared).toBeGreaterThanOrEqual(17 + 3 + 5 + 6 * (tmpfsDir ? 2 : 1));
    for (const n of [
      'node_pressure_io_stalled_seconds_total',
      'node_pressure_cpu_waiting_seconds_total',
      'node_memory_MemAvailable_bytes',
      'node_load1',
    ])
      expect(ours.has(n), n).toBe(true);
    // One series per filesystem, labelled as node_exporter labels it.
    const size = [...ours.get('node_filesystem_size_bytes')!.series.keys()];
    expect(size.filter((k) => k.includes('mountpoint="/"'))).toHaveLength(1);
    expect(size.every((k) => /device="[^"]+",fstype="[^"]+",mountpoint="[^"]+"/.test(k))).toBe(true);
    if (tmpfsDir) expect(size).toContain(`device="overnight-test",fstype="tmpfs",mountpoint="${tmpfsDir}"`);
  }, 60_000);

  it.skipIf(!root)(
    'reads the node at scrape time, not once per monitor cycle (300 s here)',
    async () => {
      const avail = async () => {
        const f = parseExposition(await (await fetch(monitor!.url)).text()).get('node_filesystem_avail_bytes')!;
        return f.series.get(`device="overnight-test",fstype="tmpfs",mountpoint="${tmpfsDir}"`)!;
      };
      const before = await avail();
      mkdirSync(path.join(tmpfsDir!, 'd'), { recursive: true });
      writeFileSync(path.join(tmpfsDir!, 'd', 'blob'), Buffer.alloc(16 * MiB, 1));
      // The tmpfs is ours alone: the next scrape sees exactly our 16 MiB gone.
      const after = await avail();
      expect(before - after).toBeGreaterThanOrEqual(16 * MiB);
      // ... and no monitor cycle ran in between (the first one at start is the only one).
      expect(monitor!.stderr().match(/"type":"cycle"/g)?.length ?? 0).toBeLessThanOrEqual(1);
    },
    30_000,
  );

  it.skipIf(!havePromtool)(
    "passes `promtool check metrics` on a live scrape, but for the lints node_exporter's own names draw",
    async () => {
      const lint = (text: string) => {
        const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
        return (r.stdout + r.stderr).split('\n').filter(Boolean);
      };
      const ours = lint(await (await fetch(monitor!.url)).text());
      const theirs = new Set(lint(await (await fetch(exporterUrl)).text()));
      // node_memory_MemTotal_bytes and the like are node_exporter's names: promtool flags them there too.
      const own = ours.filter((l) => !theirs.has(l));
      expect(own).toEqual([]);
      expect(
        ours.every((l) => /^node_memory_\w+ metric names should be written in 'snake_case' not 'camelCase'$/.test(l)),
      ).toBe(true);
    },
    30_000,
  );
});
