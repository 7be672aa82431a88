// `npm run bench`: runs every benchmark in one process, prints markdown tables, and writes
// benchmarks/results/latest.json (merged: benchmarks not run keep their last figures).
// Usage: node benchmarks/run.js [name...]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchDir } from './lib/measure.js';

const all = [
  'host-sample',
  'process-scan',
  'gpu-sample',
  'mcp-roundtrip',
  'health-check-scale',
  'http-load',
  'sampler',
  'monitor-cost',
  'node-checks',
  'kernel-log',
];
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : all;

function table(head, rows) {
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

const results = {};
const machine =
  `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} ` +
  `GiB, Linux ${os.release()}, Node ${process.version}`;
console.log(`# overnight-ops benchmarks — ${new Date().toISOString().slice(0, 10)}\n\nMachine: ${machine}\n`);
for (const name of wanted) {
  let mod;
  try {
    mod = await import(`./${name}.js`);
  } catch (err) {
    if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(`${name}.js`)) continue;
    throw err;
  }
  const r = await mod.run();
  results[name] = { ...r, date: new Date().toISOString(), machine };
  console.log(`## ${r.title}\n\n${table(r.head, r.rows)}\n`);
  for (const n of r.notes ?? []) console.log(`- ${n}`);
  console.log('');
}
// Merge: a run of some benchmarks keeps the latest figures of the others (each says when and where).
const file = path.join(benchDir, 'results/latest.json');
mkdirSync(path.dirname(file), { recursive: true });
const previous = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
const merged = { ...(previous.results ?? {}), ...results };
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine, results: merged }, null, 2));
