// Real-GPU check, for a machine with an NVIDIA driver (not part of `npm test`, which uses the fake
// library): loads the real libnvidia-ml.so.1, samples every GPU twice, computes verdicts, listens
// for events for a few seconds, and prints what the driver supported. Read-only: no setter is called.
//   node test/real-gpu/smoke.mjs [seconds]
// Module by module (not dist/index.js): this runs where only a few packages are carried.
import { gpuSampler, nvmlInfo } from '../../dist/gpu/gpu-sampler.js';
import { watchGpuEvents } from '../../dist/gpu/gpu-events.js';
import { GpuHealthTracker } from '../../dist/gpu/verdict.js';

const seconds = Number(process.argv[2] ?? 3);
const info = nvmlInfo();
const sampler = gpuSampler();
const first = await sampler.sample({ timeoutMs: 30_000 });
const second = await sampler.sample();
const quick = await sampler.sample({ quick: true });
const out = {
  loader: {
    loaded: info.loaded,
    libraryPath: info.libraryPath,
    error: info.error,
    processInfoStride: info.processInfoStride,
  },
  missingFunctions: Object.entries(info.functions)
    .filter(([, s]) => !s)
    .map(([k]) => k),
  resolved: info.functions,
  firstSample: first,
  secondSampleMs: second.elapsedMs,
  quickSampleMs: quick.elapsedMs,
};
if (second.available) {
  out.unsupportedFields = Object.fromEntries(
    second.devices.map((d) => [d.index, Object.fromEntries(Object.entries(d.errors).map(([k, v]) => [k, v.code]))]),
  );
  out.verdicts = new GpuHealthTracker().verdicts(second.devices, Date.now());
}
// The sampler with GPU signals at 1 kHz (GPU queries every 10 ms), and a full health check.
const { Sampler } = await import('../../dist/sampler/sampler.js');
const { HealthMonitor } = await import('../../dist/health/health-monitor.js');
const rec = new Sampler({ intervalUs: 1000, signals: ['memory', 'cpu'], gpus: 'all', gpuIntervalUs: 10_000 }).start();
await new Promise((r) => setTimeout(r, 1000));
const samplerReport = rec.stop();
out.sampler = {
  samples: samplerReport.samples,
  threadCpuMs: samplerReport.threadCpuMs,
  intervalUs: samplerReport.intervalUs,
  gpu: Object.fromEntries(Object.entries(samplerReport.signals).filter(([k]) => k.startsWith('gpu'))),
};
const health = await new HealthMonitor().checkSystemHealth('full');
out.healthCheck = { status: health.status, gpu_health: health.metrics.gpu_health, duration_ms: health.duration_ms };
// NVLink (nvmlDeviceGetNvLinkState/Version/RemotePciInfo/ErrorCounter) and NVSwitch fabric
// (nvmlDeviceGetGpuFabricInfo[V]): read-only queries made by the full sample; what each GPU
// answered, the verdicts, and the rest of the node checks (InfiniBand from the real /sys).
if (second.available) {
  out.interconnect = second.devices.map((d) => ({
    index: d.index,
    nvlinks: d.nvlinks
      ? { count: d.nvlinks.length, active: d.nvlinks.filter((l) => l.active).length, first: d.nvlinks[0] ?? null }
      : (d.errors.nvlinks ?? null),
    fabric: d.fabric ?? d.errors.fabric ?? null,
    persistenceMode: d.persistenceMode,
  }));
}
const nc = health.metrics.node_checks;
out.nodeChecks = nc && {
  findings: nc.findings,
  gpu_interconnect: nc.gpu_interconnect && {
    ...nc.gpu_interconnect,
    gpus: nc.gpu_interconnect.gpus.map((g) => ({ ...g, nvlink: g.nvlink && g.nvlink.length })),
  },
  infiniband: nc.infiniband.available
    ? { ports: nc.infiniband.ports.length, first: nc.infiniband.ports[0] }
    : nc.infiniband,
  duration_ms: nc.duration_ms,
};
const events = [];
const sub = watchGpuEvents((e) => events.push(e), { pollMs: 200 });
await new Promise((r) => setTimeout(r, seconds * 1000));
sub.stop();
out.eventsDuringWatch = events;
sampler.close();
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
