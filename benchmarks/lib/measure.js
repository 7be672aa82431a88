// Timing helpers shared by the benchmarks: medians and p99 of per-call wall time.
import { execFileSync } from 'node:child_process';
import { mkdirSync, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Runs fn `iterations` times after `warmup` calls; returns { medianUs, p99Us, meanUs, n }. */
export function timeSync(fn, { iterations = 2000, warmup = 200 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  const t = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    t[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return summarize(t);
}

export async function timeAsync(fn, { iterations = 50, warmup = 3 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const t = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    t[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return summarize(t);
}

/** Times `iterations` calls spaced `gapMs` apart (for peers that cache results for a while). */
export async function timeSpaced(fn, gapMs, iterations) {
  const t = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    await new Promise((r) => setTimeout(r, gapMs));
    const t0 = process.hrtime.bigint();
    await fn();
    t[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return summarize(t);
}

/** The value at quantile p of sorted values (the lower one between two ranks). */
const quantileOfSorted = (s, p) => s[Math.min(s.length - 1, Math.floor(s.length * p))];

export function median(values) {
  return quantileOfSorted(Float64Array.from(values).sort(), 0.5);
}

export function summarize(samples) {
  const s = Float64Array.from(samples).sort();
  const q = (p) => quantileOfSorted(s, p);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { medianUs: q(0.5), p99Us: q(0.99), meanUs: mean, n: s.length };
}

/** Compiles a C/C++ file in benchmarks/ into benchmarks/bin/ (once, or when the source changed). */
export function compile(source, name, extraArgs = []) {
  const out = path.join(benchDir, 'bin', name);
  const src = path.join(benchDir, source);
  mkdirSync(path.dirname(out), { recursive: true });
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) {
    const cc = source.endsWith('.c') ? 'cc' : 'c++';
    execFileSync(cc, ['-O2', ...(cc === 'c++' ? ['-std=c++17'] : []), '-o', out, src, ...extraArgs], {
      stdio: 'inherit',
    });
  }
  return out;
}

export function fmtUs(us) {
  if (us >= 1000) return `${(us / 1000).toFixed(2)} ms`;
  return `${us.toFixed(1)} µs`;
}

export function ratio(a, b) {
  return `${(a / b).toFixed(2)}x`;
}

/** The 1-, 5- and 15-minute load averages, as /proc/loadavg gives them ("0.52 0.61 0.70"). */
export function loadAverage() {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/**
 * Interleaves cases round by round (A B C, then C B A, ...: ABAB with the order alternating so no case always
 * runs first) so that a machine that gets busier or quieter during the run moves every case alike. Each round
 * times `perRound` calls of each case after `warmup` untimed ones (first round only). Returns, per case name, the
 * median of the round medians (the figure to quote), the p99 over all calls and the round medians themselves, plus
 * the load average before and after the run (quote it beside the figures).
 *
 * cases: { name: fn } where fn is sync or returns a promise (awaited). before: { name: fn }, optional, run untimed
 * before each of that case's rounds (and before its warm-up).
 */
export async function interleave(cases, { rounds = 15, perRound = 200, warmup = 20, before = {} } = {}) {
  const names = Object.keys(cases);
  const loadBefore = loadAverage();
  const perCase = Object.fromEntries(names.map((n) => [n, { roundMedians: [], all: [] }]));
  for (const n of names) {
    await before[n]?.();
    for (let i = 0; i < warmup; i++) await cases[n]();
  }
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse();
    for (const n of order) {
      const fn = cases[n];
      // Untimed set-up of a case's round (e.g. switching the fake NVML's configuration).
      await before[n]?.();
      const t = new Float64Array(perRound);
      for (let i = 0; i < perRound; i++) {
        const t0 = process.hrtime.bigint();
        const p = fn();
        if (p && typeof p.then === 'function') await p;
        t[i] = Number(process.hrtime.bigint() - t0) / 1000;
      }
      perCase[n].roundMedians.push(median(t));
      for (const v of t) perCase[n].all.push(v);
    }
  }
  const out = { load: { before: loadBefore, after: loadAverage() }, rounds, perRound };
  for (const n of names) {
    const { roundMedians, all } = perCase[n];
    out[n] = { medianUs: median(roundMedians), p99Us: summarize(all).p99Us, roundMedians, n: all.length };
  }
  return out;
}

/** "1.23 → 1.40": the 1-minute load average before and after, for a table's load column. */
export function loadColumn(load) {
  return `${load.before.split(' ')[0]} → ${load.after.split(' ')[0]}`;
}

/**
 * interleave() for measures that are not a call's wall time (a thread's CPU share over a window, an event-loop
 * delay): each case is run once per round, ABAB with the order alternating, and returns an object of numbers.
 * Returns, per case, the median over rounds of each field, every round's values, and the load average before and
 * after.
 *
 * cases: { name: async () => ({ field: number, ... }) }
 */
export async function interleaveRounds(cases, { rounds = 5 } = {}) {
  const names = Object.keys(cases);
  const loadBefore = loadAverage();
  const perCase = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse();
    for (const n of order) perCase[n].push(await cases[n]());
  }
  const out = { load: { before: loadBefore, after: loadAverage() }, rounds };
  for (const n of names) {
    const values = perCase[n];
    const fields = Object.keys(values[0] ?? {}).filter((k) => typeof values[0][k] === 'number');
    out[n] = { rounds: values, ...Object.fromEntries(fields.map((f) => [f, median(values.map((v) => v[f]))])) };
  }
  return out;
}

/** A benchmark's load average over its whole run: the first before and the last after. */
export function spanLoad(first, last = first) {
  return { before: first.before, after: last.after };
}

/**
 * One of the goals with the measured value: met is computed, never written by hand.
 * op: '<=' | '<' | '>=' | '>'; unit is appended to the value and the limit in the text.
 */
export function target(what, measured, op, limit, fmt = (v) => String(v)) {
  const met = Number.isFinite(measured)
    ? { '<=': measured <= limit, '<': measured < limit, '>=': measured >= limit, '>': measured > limit }[op]
    : false;
  if (met === undefined) throw new Error(`target(): op must be one of <=, <, >=, >; got ${JSON.stringify(op)}`);
  return { what, value: fmt(measured), goal: `${op} ${fmt(limit)}`, met, measured, limit };
}

/** Scales a benchmark's default amount of work by BENCH_SCALE (e.g. 3 on a quiet machine; at least 1 unit). */
export function scaled(n) {
  const f = Number(process.env.BENCH_SCALE ?? '1');
  return Math.max(1, Math.round(n * (Number.isFinite(f) && f > 0 ? f : 1)));
}

/** `node benchmarks/<name>.js` on its own: runs it and prints its table and notes (`npm run bench` renders them). */
export async function runIfMain(moduleUrl, run) {
  if (moduleUrl !== pathToFileURL(process.argv[1] ?? '').href) return;
  const r = await run();
  console.log(`| ${r.head.join(' | ')} |\n|${r.head.map(() => ' --- |').join('')}`);
  for (const row of r.rows) console.log(`| ${row.join(' | ')} |`);
  for (const n of r.notes) console.log(`- ${n}`);
}
