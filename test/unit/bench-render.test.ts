// The renderer behind `npm run bench` / `node benchmarks/run.js --render`: benchmarks/README.md's figures come from
// results/latest.json, with date, machine, load average and targets; the hand-written head is never touched.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const runJs = path.join(root, 'benchmarks/run.js');

interface Target {
  what: string;
  value: string;
  goal: string;
  met: boolean;
}
interface Render {
  BEGIN: string;
  END: string;
  renderGenerated(latest: unknown, o?: { others?: { file: string; data: unknown }[]; order?: string[] }): string;
  spliceReadme(readme: string, generated: string): string;
}
interface Measure {
  target(what: string, measured: number, op: string, limit: number, fmt?: (v: number) => string): Target;
  interleaveRounds(
    cases: Record<string, () => Promise<Record<string, number>>>,
    o: { rounds: number },
  ): Promise<Record<string, unknown> & { load: { before: string; after: string } }>;
}
// Plain JS modules (benchmarks/ is not part of the TypeScript build): imported by URL, typed here.
const render = (await import(pathToFileURL(path.join(root, 'benchmarks/lib/render.js')).href)) as Render;
const measure = (await import(pathToFileURL(path.join(root, 'benchmarks/lib/measure.js')).href)) as Measure;

const sampler = {
  title: 'Sampler: thread CPU vs the C limit',
  head: ['case', 'thread CPU', 'C limit', 'vs C'],
  rows: [
    ['1 ms, default', '2.61 %', '2.20 %', '1.19x'],
    ['100 µs | memory', '21.0 %', '20.1 %', '1.04x'],
  ],
  notes: ['timer floor: 1.9 % of a core at 1 ms'],
  load: { before: '0.41 0.52 0.60', after: '0.55 0.53 0.60' },
  targets: [
    measure.target('1 kHz thread CPU', 2.61, '<', 3, (v) => `${v} %`),
    measure.target('p99 jitter', 240, '<', 200, (v) => `${v} µs`),
  ],
  date: '2026-11-27T13:02:11.000Z',
  machine: '2 × AMD EPYC, 24 GiB',
  cpus: 2,
  durationS: 61.2,
};
const latest = {
  date: '2026-11-27T13:05:00.000Z',
  machine: '2 × AMD EPYC, 24 GiB',
  results: {
    sampler,
    'kernel-log': {
      title: 'kernel-log',
      error: 'ENOENT: /dev/kmsg',
      date: '2026-11-27T13:04:00.000Z',
      machine: '2 × AMD EPYC, 24 GiB',
      load: { before: '1.00 1.00 1.00', after: '1.10 1.00 1.00' },
    },
  },
};

describe('benchmarks README renderer', () => {
  it('renders each benchmark with its date, machine, load average, table, notes and computed targets', () => {
    const out = render.renderGenerated(latest, { order: ['gpu-sample', 'sampler', 'kernel-log'] });
    expect(out.startsWith(render.BEGIN)).toBe(true);
    expect(out.endsWith(render.END)).toBe(true);
    // The table, a cell's '|' escaped so it stays one column.
    expect(out).toContain('| case | thread CPU | C limit | vs C |');
    expect(out).toContain('| 1 ms, default | 2.61 % | 2.20 % | 1.19x |');
    expect(out).toContain('| 100 µs \\| memory | 21.0 % | 20.1 % | 1.04x |');
    expect(out).toContain('- timer floor: 1.9 % of a core at 1 ms');
    expect(out).toContain(
      'Measured 2026-11-27 13:02 UTC on 2 × AMD EPYC, 24 GiB; load average 0.41 0.52 0.60 before, 0.55 0.53 ' +
        '0.60 after (1/5/15 min, 2 CPUs); ran 61 s.',
    );
    // Targets: met is computed from the measured value and the goal, in the section and in the summary.
    expect(out).toContain('| 1 kHz thread CPU | 2.61 % | < 3 % | met |');
    expect(out).toContain('| p99 jitter | 240 µs | < 200 µs | **not met** |');
    expect(out).toContain('| sampler | p99 jitter | 240 µs | < 200 µs | **not met** | 2026-11-27 13:02 UTC |');
    // A benchmark that threw says so, with no figures; order follows run.js's list.
    expect(out).toContain('**Failed in that run:** ENOENT: /dev/kmsg. No figures.');
    expect(out).toContain('| kernel-log | failed in the last run |');
    expect(out.indexOf('— `sampler`')).toBeLessThan(out.indexOf('— `kernel-log`'));
  });

  it('computes met from the value (never by hand) and refuses an unknown comparison', () => {
    expect(measure.target('x', 1.2, '<=', 1.2).met).toBe(true);
    expect(measure.target('x', 1.21, '<=', 1.2).met).toBe(false);
    expect(measure.target('x', 600, '>=', 500).met).toBe(true);
    expect(measure.target('x', Number.NaN, '<', 3).met).toBe(false);
    expect(() => measure.target('x', 1, '=<', 2)).toThrow(/op must be one of/);
  });

  it('renders another machine in the current format as its own section and lists old-format files by name', () => {
    const h100 = { date: '2026-11-28T09:00:00.000Z', machine: '16 × Xeon, H100', results: { sampler } };
    const old = {
      date: '2026-11-24T10:42:13.264Z',
      machine: '16 × Xeon',
      results: { 'gpu-sample': { title: 't', head: [], rows: [] } },
    };
    const out = render.renderGenerated(latest, {
      order: ['sampler'],
      others: [
        { file: 'h100-2026-11-28.json', data: h100 },
        { file: 'h100-2026-11-24.json', data: old },
      ],
    });
    expect(out).toContain('## h100-2026-11-28.json: 16 × Xeon, H100, 2026-11-28 09:00 UTC');
    expect(out).toContain('results/h100-2026-11-24.json');
    expect(out).not.toContain('## h100-2026-11-24.json');
  });

  it('keeps the hand-written head and anything after the end marker byte for byte', () => {
    const head = '# Benchmarks\r\n\nHow to run:  trailing spaces  \n\t`npm run bench` — ✓ ünïcode\n\n';
    const tail = '\n\nafter the figures\n';
    const first = render.spliceReadme(
      `${head}${render.BEGIN}\nold figures 9.99 ms\n${render.END}${tail}`,
      render.renderGenerated(latest),
    );
    expect(first.startsWith(head + render.BEGIN)).toBe(true);
    expect(first.endsWith(render.END + tail)).toBe(true);
    expect(first).not.toContain('9.99 ms');
    // Rendering again is a fixed point, and a README without markers gets them appended after its text.
    expect(render.spliceReadme(first, render.renderGenerated(latest))).toBe(first);
    const fresh = render.spliceReadme('# Benchmarks\n', render.renderGenerated(latest));
    expect(fresh.startsWith(`# Benchmarks\n\n${render.BEGIN}`)).toBe(true);
    expect(() => render.spliceReadme(`x ${render.BEGIN} y`, 'g')).toThrow(/but not the other/);
  });

  it('renders an entry that is not a benchmark result as invalid, never a TypeError', () => {
    const bad = { results: { zzz: null, yyy: { title: 'y', date: '2026-11-27T13:00:00.000Z', rows: 'x' }, sampler } };
    const out = render.renderGenerated(bad, { order: ['sampler'] });
    expect(out).toContain('### zzz — `zzz`');
    expect(out).toContain('**Failed in that run:** invalid entry in the results: null is not an object. No figures.');
    expect(out).toContain('invalid entry in the results: its rows is not a list');
    expect(out).toContain('| 1 ms, default | 2.61 % | 2.20 % | 1.19x |');
  });

  it('says so when the end marker comes before the begin marker', () => {
    const readme = `# B\n${render.END}\nmiddle\n${render.BEGIN}\n`;
    expect(() => render.spliceReadme(readme, 'g')).toThrow(/bench:end --> comes before its <!-- bench:begin/);
  });

  it('interleaveRounds alternates the order of the cases every round and takes the median over rounds', async () => {
    const order: string[] = [];
    let a = 0;
    const r = await measure.interleaveRounds(
      {
        a: async () => (order.push('a'), { v: [5, 1, 3][a++] }),
        b: async () => (order.push('b'), { v: 7 }),
      },
      { rounds: 3 },
    );
    expect(order).toEqual(['a', 'b', 'b', 'a', 'a', 'b']);
    expect((r.a as { v: number }).v).toBe(3);
    expect(r.load.before).toMatch(/^\d+\.\d+ \d+\.\d+ \d+\.\d+$/);
  });
});

/** Runs run.js; null when it exits 0, else its exit code and stderr. */
function run(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  return promisify(execFile)(process.execPath, [runJs, ...args], { cwd, env, timeout: 60_000 }).then(
    () => null,
    (e: unknown) => e as { code: number; stdout: string; stderr: string },
  );
}

describe('node benchmarks/run.js --render', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('rewrites only the generated part of a README from latest.json, measuring nothing', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ovn-bench-render-'));
    mkdirSync(path.join(dir, 'results'));
    const results = path.join(dir, 'results/latest.json');
    writeFileSync(results, JSON.stringify(latest));
    const head = '# Benchmarks\n\nHand-written: how to run.  \n\n';
    writeFileSync(path.join(dir, 'README.md'), `${head}${render.BEGIN}\nstale\n${render.END}\n`);
    const args = [runJs, '--render', '--results', results, '--readme', path.join(dir, 'README.md')];
    const { stdout } = await promisify(execFile)(process.execPath, args, { timeout: 60_000 });
    expect(stdout).toContain('README rendered');
    const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
    expect(readme.startsWith(head + render.BEGIN)).toBe(true);
    expect(readme).not.toContain('stale');
    expect(readme).toContain('| 1 ms, default | 2.61 % | 2.20 % | 1.19x |');
    expect(readme).toContain('| p99 jitter | 240 µs | < 200 µs | **not met** |');
    expect(readme.endsWith(`${render.END}\n`)).toBe(true);
  });

  it('refuses an option as the value of --results / --readme and a non-.md --readme, writing nothing', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ovn-bench-render-'));
    const cwd = path.join(dir, 'a/b');
    mkdirSync(cwd, { recursive: true });
    for (const [args, msg] of [
      [['--render', '--results', '--readme'], /--results needs a file/],
      [['--render', '--readme', '--results', 'x.json'], /--readme needs a file/],
      [['--render', '--readme', 'notes.txt'], /--readme must name a \.md file, got "notes.txt"/],
    ] as const) {
      const err = await run([...args], cwd);
      expect(err?.code).toBe(64);
      expect(err?.stderr).toMatch(msg);
    }
    // The old parse took "--readme" as the results file and wrote the README two levels above it.
    expect(existsSync(path.join(dir, 'a/README.md'))).toBe(false);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('--render --results FILE renders FILE as the last run, the other files of its dir as other machines', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ovn-bench-render-'));
    mkdirSync(path.join(dir, 'x'));
    const mine = { ...latest, machine: 'mine-machine', results: { sampler: { ...sampler, machine: 'mine-machine' } } };
    writeFileSync(path.join(dir, 'x/mine.json'), JSON.stringify(mine));
    writeFileSync(path.join(dir, 'x/latest.json'), JSON.stringify({ ...latest, machine: 'latest-machine' }));
    const readme = path.join(dir, 'out/README.md');
    const err = await run(['--render', '--results', path.join(dir, 'x/mine.json'), '--readme', readme], dir);
    expect(err).toBeNull();
    const text = readFileSync(readme, 'utf8');
    const last = text.slice(text.indexOf('## Figures of the last run'), text.indexOf('## latest.json'));
    expect(last).toContain('on mine-machine;');
    expect(last).not.toContain('ENOENT: /dev/kmsg');
    expect(text).toContain('## latest.json: latest-machine, 2026-11-27 13:05 UTC');
    expect(text).not.toContain('## mine.json');
    // Never a README derived from the results file's place (that was /tmp/README.md for /tmp/x/mine.json).
    expect(existsSync(path.join(dir, 'README.md'))).toBe(false);
  });

  it('refuses --render with a missing --results file (exit 66 naming --results), README untouched', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ovn-bench-render-'));
    const readme = path.join(dir, 'README.md');
    const before = `# Benchmarks\n\n${render.BEGIN}\n| figures | kept |\n${render.END}\n`;
    writeFileSync(readme, before);
    const missing = path.join(dir, 'nonexistent.json');
    const err = await run(['--render', '--results', missing, '--readme', readme], dir);
    expect(err?.code).toBe(66);
    expect(err?.stderr).toContain(`run.js: --results: "${missing}" does not exist`);
    expect(readFileSync(readme, 'utf8')).toBe(before);
    expect(readdirSync(dir)).toEqual(['README.md']);
  });

  it('a --readme it cannot read or write is one line naming --readme (exit 1), no stack', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ovn-bench-render-'));
    const results = path.join(dir, 'r.json');
    writeFileSync(results, JSON.stringify({ results: {} }));
    mkdirSync(path.join(dir, 'dir.md'));
    for (const [readme, says] of [
      [path.join(dir, 'dir.md'), 'cannot read: EISDIR'],
      [path.join('/proc', 'x.md'), 'cannot write: '],
    ] as const) {
      const err = await run(['--render', '--results', results, '--readme', readme], dir);
      expect(err?.code).toBe(1);
      expect(err?.stderr).toContain(`run.js: --readme ${readme}: ${says}`);
      expect(err?.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('defaults the README to benchmarks/README.md whatever --results says', async () => {
    const runMod = (await import(pathToFileURL(runJs).href)) as {
      parseArgs: (argv: string[]) => { readme: string; results: string };
    };
    const o = runMod.parseArgs(['--render', '--results', '/tmp/x/mine.json']);
    expect(o.readme).toBe(path.join(root, 'benchmarks/README.md'));
    expect(o.results).toBe('/tmp/x/mine.json');
  });

  it('names an invalid JSON file in results/ in one line, with no stack, and leaves the README alone', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ovn-bench-render-'));
    mkdirSync(path.join(dir, 'results'));
    writeFileSync(path.join(dir, 'results/latest.json'), JSON.stringify(latest));
    writeFileSync(path.join(dir, 'results/h100-broken.json'), `{"results": {"sampler": ${'9'.repeat(5000)}`);
    const readme = path.join(dir, 'README.md');
    writeFileSync(readme, '# mine\n');
    const err = await run(['--render', '--results', path.join(dir, 'results/latest.json'), '--readme', readme], dir);
    expect(err?.code).toBe(1);
    expect(err?.stderr).toMatch(/^run\.js: \S*h100-broken\.json is not a readable JSON file: /);
    expect(err?.stderr).not.toMatch(/\n\s+at /);
    expect(err!.stderr.length).toBeLessThan(600);
    expect(readFileSync(readme, 'utf8')).toBe('# mine\n');
  });

  it('names the README whose end marker precedes its begin marker', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ovn-bench-render-'));
    writeFileSync(path.join(dir, 'latest.json'), JSON.stringify(latest));
    const readme = path.join(dir, 'B.md');
    writeFileSync(readme, `${render.END}\n${render.BEGIN}\n`);
    const err = await run(['--render', '--results', path.join(dir, 'latest.json'), '--readme', readme], dir);
    expect(err?.code).toBe(1);
    expect(err?.stderr).toContain(`run.js: ${readme}: README's ${render.END} comes before its ${render.BEGIN}`);
  });

  it('a full run reads latest.json before measuring: a corrupt one stops it at once, naming the file', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ovn-bench-render-'));
    const results = path.join(dir, 'latest.json');
    writeFileSync(results, '{"results": {"sampler": {"title": "half-writ');
    // A budget spent at once: without the check the run would still start (and print its header), measuring nothing.
    const env = { ...process.env, BENCH_BUDGET_S: '0.001' };
    const err = await run(['--results', results, '--readme', path.join(dir, 'R.md'), 'host-sample'], dir, env);
    expect(err?.code).toBe(1);
    expect(err?.stderr).toContain(`run.js: ${results} is not a readable JSON file`);
    expect(err?.stdout).not.toContain('overnight-ops benchmarks');
    expect(readFileSync(results, 'utf8')).toBe('{"results": {"sampler": {"title": "half-writ');
    expect(existsSync(path.join(dir, 'R.md'))).toBe(false);
  });

  it('refuses an unknown benchmark name, naming it and the allowed ones', async () => {
    const err = await promisify(execFile)(process.execPath, [runJs, '--render', 'no-such-bench'], {
      timeout: 60_000,
    }).then(
      () => null,
      (e: unknown) => e as { code: number; stderr: string },
    );
    expect(err?.code).toBe(64);
    expect(err?.stderr).toMatch(/unknown benchmark "no-such-bench"; one of: host-sample, .*psi-reaction/);
  });
});
