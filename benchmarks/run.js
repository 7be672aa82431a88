// `npm run bench`: runs every benchmark in one process, prints its table with the load average before and after it,
// merges the results into benchmarks/results/latest.json (benchmarks not run keep their last figures, each with its
// own date) and re-renders the generated part of benchmarks/README.md from that file.
//
// Usage: node benchmarks/run.js [name...]          measure (all by default), write latest.json, render the README
//        node benchmarks/run.js --render            re-render the README from latest.json, measure nothing
//        node benchmarks/run.js --results FILE ...  write the measurements to FILE instead (e.g.
//                                                   results/h100-2026-11-28.json on a GPU machine: rendered as its
//                                                   own section beside its directory's latest.json)
//        node benchmarks/run.js --render --results FILE   render FILE as the last run, the other files of its
//                                                   directory as other machines
//        --readme FILE.md renders into another README; the default is always benchmarks/README.md
// Bounded by default: each benchmark has BENCH_TIMEOUT_S (150 s) and the whole run BENCH_BUDGET_S (900 s, times
// BENCH_SCALE); a benchmark that throws or times out is recorded as failed, the rest are rendered, and the exit
// code is 1. A time-out ends the run (the stuck benchmark would skew the ones after it). Exit codes: 64 a usage
// error, 66 --render with no --results file, 1 a failed benchmark or an unreadable results file or README.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchDir, loadAverage } from './lib/measure.js';
import { renderGenerated, spliceReadme, table } from './lib/render.js';

export const all = [
  'host-sample',
  'process-scan',
  'gpu-sample',
  'mcp-roundtrip',
  'health-check-scale',
  'http-load',
  'sampler',
  'monitor-cost',
  'cli-startup',
  'node-checks',
  'kernel-log',
  'event-window',
  'psi-reaction',
];

function usage(msg) {
  console.error(`run.js: ${msg}\nusage: node benchmarks/run.js [--render] [--results FILE] [--readme FILE] [name...]`);
  process.exit(64);
}

export function parseArgs(argv) {
  const o = {
    render: false,
    results: path.join(benchDir, 'results/latest.json'),
    readme: path.join(benchDir, 'README.md'),
    names: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--render') o.render = true;
    else if (a === '--results' || a === '--readme') {
      const v = argv[++i];
      // `--results --readme` is a forgotten file name, not a file called "--readme" (that wrote ../README.md).
      if (!v || v.startsWith('--')) usage(`${a} needs a file`);
      if (a === '--readme' && !v.endsWith('.md'))
        usage(`--readme must name a .md file, got ${JSON.stringify(v.slice(0, 80))}`);
      o[a.slice(2)] = path.resolve(v);
    } else if (a.startsWith('-')) usage(`unknown option ${JSON.stringify(a.slice(0, 40))}`);
    else if (!all.includes(a)) usage(`unknown benchmark ${JSON.stringify(a.slice(0, 40))}; one of: ${all.join(', ')}`);
    else o.names.push(a);
  }
  return o;
}

/** Bad input (a results file, a README): reported as one line naming the file, never as a stack. */
class InputError extends Error {}

/** A results file's content: a JSON object whose `results`, when present, is an object of benchmark entries. */
function readJson(file) {
  let data;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(`${file} is not a readable JSON file: ${String(err?.message ?? err).slice(0, 160)}`);
  }
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(data) || (data.results !== undefined && !isObject(data.results)))
    throw new InputError(
      `${file} is not a results file: expected {"results": {"<benchmark>": {...}}}, got ` +
        `${JSON.stringify(data).slice(0, 80)}`,
    );
  return data;
}

function writeAtomic(file, text) {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

/**
 * README's new text, generated from lastFile as the last run, then the other files of its directory. Reads and
 * validates every input, so that a full run calls it before measuring and stops at once on a corrupt file.
 */
function renderedReadme(lastFile, readmeFile) {
  const resultsDir = path.dirname(lastFile);
  const latest = existsSync(lastFile) ? readJson(lastFile) : { results: {} };
  const others = existsSync(resultsDir)
    ? readdirSync(resultsDir)
        .filter((f) => f.endsWith('.json') && f !== path.basename(lastFile))
        .sort()
        .map((file) => ({ file, data: readJson(path.join(resultsDir, file)) }))
    : [];
  let readme = '# Benchmarks\n';
  try {
    if (existsSync(readmeFile)) readme = readFileSync(readmeFile, 'utf8');
  } catch (err) {
    throw new InputError(`--readme ${readmeFile}: cannot read: ${String(err?.message ?? err).slice(0, 200)}`);
  }
  const generated = renderGenerated(latest, { others, order: all });
  try {
    return spliceReadme(readme, generated);
  } catch (err) {
    throw new InputError(`${readmeFile}: ${String(err?.message ?? err).slice(0, 200)}`);
  }
}

/** Renders README's generated part: lastFile as the last run, then the other files of its directory. */
export function renderReadme(lastFile, readmeFile) {
  const text = renderedReadme(lastFile, readmeFile);
  try {
    writeAtomic(readmeFile, text);
  } catch (err) {
    throw new InputError(`--readme ${readmeFile}: cannot write: ${String(err?.message ?? err).slice(0, 200)}`);
  }
}

const seconds = (name, dflt) => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v) || v <= 0) usage(`${name} must be a positive number of seconds, got ${process.env[name]}`);
  return v;
};

/** The CPUs each thread of this process may run on (Cpus_allowed_list), as one sorted string. */
function threadAffinity() {
  const lists = new Set();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      lists.add(/Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/self/task/${tid}/status`, 'latin1'))?.[1]);
    } catch {
      /* the thread exited */
    }
  }
  return [...lists].sort().join(' ');
}

async function measure(opts, previous) {
  const scale = Number(process.env.BENCH_SCALE ?? 1) || 1;
  const perBench = seconds('BENCH_TIMEOUT_S', 150 * scale);
  const budget = seconds('BENCH_BUDGET_S', 900 * scale);
  const cpus = os.cpus().length;
  const machine =
    `${cpus} × ${os.cpus()[0]?.model?.trim() ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ` +
    `${os.release()}, Node ${process.version}`;
  console.log(`# overnight-ops benchmarks — ${new Date().toISOString()}\n\nMachine: ${machine}\n`);
  const results = {};
  let failed = 0;
  const t0 = Date.now();
  // A benchmark may pin this process to one CPU (host-sample, lib/pin.js) and must put it back.
  const affinity = threadAffinity();
  const names = opts.names.length ? opts.names : all;
  for (const [i, name] of names.entries()) {
    let mod;
    try {
      mod = await import(`./${name}.js`);
    } catch (err) {
      if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(`${name}.js`)) continue;
      // Any other import failure (a syntax error, a missing dist/ build) is that benchmark's failure, not the run's.
      failed++;
      console.error(`\n${name} FAILED to load: ${String(err?.message ?? err).split('\n')[0]}`);
      const load = { before: loadAverage(), after: loadAverage() };
      results[name] = {
        title: name,
        error: `failed to load: ${String(err?.message ?? err).slice(0, 300)}`,
        date: new Date().toISOString(),
        machine,
        cpus,
        load,
      };
      continue;
    }
    const left = budget - (Date.now() - t0) / 1000;
    if (left <= 0) {
      console.log(`## ${name}: not run, the run's budget of ${budget} s is spent (BENCH_BUDGET_S)\n`);
      failed++;
      continue;
    }
    const limit = Math.min(perBench, left);
    const before = loadAverage();
    console.log(`## ${name} — load average before: ${before}`);
    const date = new Date().toISOString();
    const start = Date.now();
    // A benchmark may point this process's environment at the fake NVML library (gpu-sample, node-checks):
    // restored afterwards, so that the benchmarks after it do not measure a node with eight fake GPUs.
    const envBefore = { ...process.env };
    let timer;
    try {
      const r = await Promise.race([
        mod.run(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`did not finish in ${limit.toFixed(0)} s`)), limit * 1000);
        }),
      ]);
      const durationS = (Date.now() - start) / 1000;
      // A benchmark reports the load over its measured part; the runner's own before/after is the fallback.
      const load = r.load?.before ? r.load : { before, after: loadAverage() };
      results[name] = { ...r, load, date, machine, cpus, durationS };
      console.log(`\n### ${r.title}\n`);
      if (r.head?.length) console.log(`${table(r.head, r.rows ?? [])}\n`);
      for (const n of r.notes ?? []) console.log(`- ${n}`);
      for (const t of r.targets ?? []) {
        const verdict = t.met === null ? 'not judged' : t.met ? 'met' : 'NOT met';
        console.log(`- target: ${t.what}: ${t.value} (goal ${t.goal}) ${verdict}`);
      }
    } catch (err) {
      failed++;
      const msg = String(err?.stack ?? err)
        .split('\n')
        .slice(0, 3)
        .join(' / ');
      console.error(`\n${name} FAILED: ${msg}`);
      results[name] = {
        title: name,
        error: String(err?.message ?? err).slice(0, 300),
        date,
        machine,
        cpus,
        load: { before, after: loadAverage() },
      };
      if (String(err?.message).startsWith('did not finish')) {
        clearTimeout(timer);
        const rest = names.slice(i + 1);
        console.error(
          `stopping: a benchmark still running would skew the ones after it; not run: ${rest.join(', ') || 'none'}`,
        );
        failed += rest.length;
        break;
      }
    } finally {
      clearTimeout(timer);
      for (const k of Object.keys(process.env)) if (!(k in envBefore)) delete process.env[k];
      Object.assign(process.env, envBefore);
    }
    console.log(`\n${name}: ${((Date.now() - start) / 1000).toFixed(1)} s, load average after: ${loadAverage()}\n`);
    if (threadAffinity() !== affinity) {
      const rest = names.slice(i + 1);
      console.error(
        `stopping: ${name} left this process on CPUs ${threadAffinity()} (it ran on ${affinity}); ` +
          `the benchmarks after it would be skewed; not run: ${rest.join(', ') || 'none'}`,
      );
      failed += rest.length;
      break;
    }
  }
  // Merge: a run of some benchmarks keeps the latest figures of the others (each says when and where).
  const merged = { ...(previous.results ?? {}), ...results };
  writeAtomic(
    opts.results,
    `${JSON.stringify({ date: new Date().toISOString(), machine, results: merged }, null, 2)}\n`,
  );
  return failed;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  // --render has nothing to render without its results file: rendering "no results" over the README's figures
  // would lose them. EX_NOINPUT (66), as sysexits.h has it for a missing input file.
  if (opts.render && !existsSync(opts.results)) {
    console.error(
      `run.js: --results: ${JSON.stringify(opts.results.slice(0, 200))} does not exist; --render needs a results ` +
        'file written by a run (benchmarks/results/*.json). The README was left as it was.',
    );
    process.exit(66);
  }
  // --render --results FILE renders FILE's runs; after a measurement into another machine's FILE, its directory's
  // latest.json stays the last run and FILE is its own section (FILE is the last run where there is no latest.json).
  const latestFile = path.join(path.dirname(opts.results), 'latest.json');
  const lastFile = () => (opts.render || !existsSync(latestFile) ? opts.results : latestFile);
  let previous;
  try {
    // Before measuring: a corrupt results file or README stops the run now, not after minutes of figures are lost.
    previous = existsSync(opts.results) ? readJson(opts.results) : {};
    renderedReadme(lastFile(), opts.readme);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    console.error(`run.js: ${err.message}`);
    process.exit(1);
  }
  // monitor-cost forces collections between phases; give it gc() without asking every caller for the flag.
  if (!opts.render && typeof globalThis.gc !== 'function' && !process.env.OVERNIGHT_BENCH_CHILD) {
    const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, OVERNIGHT_BENCH_CHILD: '1' },
    });
    process.exit(r.status ?? 1);
  }
  const failed = opts.render ? 0 : await measure(opts, previous);
  try {
    renderReadme(lastFile(), opts.readme);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    console.error(`run.js: ${err.message}`);
    process.exit(1);
  }
  console.log(`README rendered: ${path.relative(process.cwd(), opts.readme)}`);
  if (failed) console.error(`${failed} benchmark(s) failed or were not run`);
  // Exit now: a timed-out benchmark may still hold handles open.
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
