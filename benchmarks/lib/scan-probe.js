// A process of its own for process-scan's event-loop figures: it scans on command and reports its own
// loop's worst delay (p100 of monitorEventLoopDelay) over the scan, or over an idle window as long as its
// last scan. Measured here rather than in the benchmark's process, the loop pays only for the scans:
// not for the garbage of the benchmark's other cases (the sync scans' 5,000-row tables, the sampler, the
// peers), which V8 collects whenever it next needs to, often inside another case's window.
// OVN_BENCH_DIST points it at another build's dist/ (before/after comparisons); the default is ours.
//
// Messages (IPC): { id, cmd: 'async' | 'sampler' | 'idle', batch } -> { id, worstMs, ms }, or { id, error }.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = process.env.OVN_BENCH_DIST ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist');
const load = (rel) => import(pathToFileURL(path.join(dist, rel)).href);
const { createProcessTable } = await load('readers/processes.js');
const { Sampler } = await load('sampler/sampler.js');

const table = createProcessTable();
let sampler;
let lastScanMs = 10;
const h = monitorEventLoopDelay({ resolution: 1 });
const sleepMs = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs `work` with the loop's delay recorded; returns its worst delay and its wall time. */
async function window(work) {
  h.reset();
  h.enable();
  const t0 = performance.now();
  await work();
  const ms = performance.now() - t0;
  h.disable();
  return { worstMs: h.max / 1e6, ms };
}

const commands = {
  async: async (batch) => {
    const r = await window(async () => {
      for (let i = 0; i < batch; i++) await table.scanAsync();
    });
    lastScanMs = r.ms;
    return r;
  },
  sampler: async (batch) => {
    sampler ??= new Sampler({
      intervalUs: 1_000_000,
      signals: [],
      processes: { descendantsOf: 0, intervalUs: 0 },
    }).start();
    return window(async () => {
      for (let i = 0; i < batch; i++) {
        await sampler.scanProcesses();
        await sampler.readProcessesChunked();
      }
    });
  },
  idle: () => window(() => sleepMs(lastScanMs)),
};

process.on('message', (m) => {
  const run = commands[m.cmd];
  Promise.resolve()
    .then(() => {
      if (!run) throw new Error(`unknown command ${JSON.stringify(m.cmd)}`);
      return run(m.batch ?? 1);
    })
    .then(
      (r) => process.send({ id: m.id, ...r }),
      (err) => process.send({ id: m.id, error: String(err?.stack ?? err) }),
    );
});
process.on('disconnect', () => {
  sampler?.stop();
  process.exit(0);
});
process.send({ ready: true });
