// Per-GPU full sample: the addon (GPU thread + conversion to JS) vs the same NVML calls made
// directly in C against the same library, vs spawning nvidia-smi where it exists.
// Uses the real libnvidia-ml.so.1 when present, else the fake library built by the tests.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { benchDir, compile, fmtUs, ratio, timeAsync } from './lib/measure.js';

function findRealNvml() {
  try {
    const out = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' });
    const m = /libnvidia-ml\.so\.1 .*=> (\S+)/.exec(out);
    return m ? m[1] : null;
  } catch {
    return null;
  }
}

export async function run() {
  let lib = process.env.OVERNIGHT_NVML_LIBRARY || findRealNvml();
  let kind = 'real driver';
  if (!lib) {
    lib = path.join(benchDir, '../test/fixtures/fake-nvml/build/full/libnvidia-ml.so.1');
    kind = 'fake library (no NVIDIA driver on this machine)';
    if (!existsSync(lib))
      return { title: 'GPU sample: skipped (run npm test once to build the fake library)', head: [], rows: [] };
    process.env.OVERNIGHT_FAKE_NVML_CONFIG ||= path.join(benchDir, 'fixtures/fake-nvml-8gpu.json');
  }
  process.env.OVERNIGHT_NVML_LIBRARY = lib;
  const { gpuSampler } = await import('../dist/gpu/gpu-sampler.js');
  const sampler = gpuSampler();
  const first = await sampler.sample({ timeoutMs: 30_000 });
  if (!first.available) return { title: `GPU sample: unavailable (${first.reason})`, head: [], rows: [] };
  const n = first.deviceCount;
  const limitBin = compile('limit/nvml_limit.c', 'nvml_limit', ['-ldl']);
  const iterations = 300;
  const limit = JSON.parse(
    execFileSync(limitBin, [lib, String(iterations), 'percall'], { encoding: 'utf8', env: process.env }),
  );
  const addon = await timeAsync(() => sampler.sample(), { iterations, warmup: 20 });
  const quick = await timeAsync(() => sampler.sample({ quick: true, processes: false }), { iterations, warmup: 20 });
  const rows = [
    ['C limit (same NVML calls, direct)', limit, '1.00x'],
    ['overnight-ops gpuSampler().sample()', addon, ratio(addon.medianUs, limit.medianUs)],
    [
      'overnight-ops sample({ quick: true }) (util, memory, temperature, power)',
      quick,
      ratio(quick.medianUs, limit.medianUs),
    ],
  ];
  let smi = null;
  let smiQuick = null;
  try {
    execFileSync('nvidia-smi', ['-L'], { stdio: 'ignore' });
    const q =
      '--query-gpu=index,uuid,name,pci.bus_id,utilization.gpu,utilization.memory,memory.total,memory.used,' +
      'memory.free,temperature.gpu,power.draw,power.limit,clocks.sm,clocks.mem,clocks_event_reasons.active,' +
      'ecc.errors.uncorrected.volatile.total,retired_pages.pending,pstate,persistence_mode,compute_mode';
    smi = await timeAsync(() => execFileSync('nvidia-smi', [q, '--format=csv,noheader']), {
      iterations: 20,
      warmup: 2,
    });
    rows.push(['nvidia-smi --query-gpu (spawn, 20 fields)', smi, ratio(smi.medianUs, limit.medianUs)]);
    smiQuick = await timeAsync(
      () =>
        execFileSync('nvidia-smi', [
          '--query-gpu=utilization.gpu,memory.used,temperature.gpu,power.draw',
          '--format=csv,noheader',
        ]),
      { iterations: 20, warmup: 2 },
    );
    rows.push([
      'nvidia-smi --query-gpu (spawn, the quick 4 fields)',
      smiQuick,
      ratio(smiQuick.medianUs, limit.medianUs),
    ]);
  } catch {
    /* no nvidia-smi here */
  }
  sampler.close();
  const notes = [
    `library: ${lib} (${kind}); ${n} GPUs; driver ${first.driverVersion}`,
    `addon / C limit: ${(addon.medianUs / limit.medianUs).toFixed(2)}x (target <= 1.2x)`,
  ];
  if (smi)
    notes.push(
      `nvidia-smi / addon: full sample ${(smi.medianUs / addon.medianUs).toFixed(0)}x; like for like, the quick ` +
        `fields: ${(smiQuick.medianUs / quick.medianUs).toFixed(0)}x (target >= 100x)`,
    );
  if (limit.perCallUs)
    notes.push(
      `per-call cost on GPU 0 (µs, median): ${Object.entries(limit.perCallUs)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  else notes.push('nvidia-smi: not installed here');
  return {
    title: `GPU sample (all ${n} GPUs, every field; median and p99 per sample, per GPU)`,
    head: ['implementation', 'median', 'p99', 'per GPU', 'vs C limit'],
    rows: rows.map(([name, t, r]) => [name, fmtUs(t.medianUs), fmtUs(t.p99Us), fmtUs(t.medianUs / Math.max(1, n)), r]),
    notes,
    raw: { lib, kind, n, limit, addon, quick, smi, smiQuick },
  };
}
