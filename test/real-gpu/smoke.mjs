// Real-GPU check, for a machine with an NVIDIA driver (not part of `npm test`, which uses the fake
// library): loads the real libnvidia-ml.so.1, samples every GPU twice, computes verdicts, listens
// for events for a few seconds, and prints what the driver supported. Read-only: no setter is called.
//   node test/real-gpu/smoke.mjs [seconds]
import { gpuSampler, nvmlInfo, watchGpuEvents, GpuHealthTracker } from '../../dist/index.js';

const seconds = Number(process.argv[2] ?? 3);
const info = nvmlInfo();
const sampler = gpuSampler();
const first = await sampler.sample({ timeoutMs: 30_000 });
const second = await sampler.sample();
const quick = await sampler.sample({ quick: true });
const out = {
  loader: { loaded: info.loaded, libraryPath: info.libraryPath, error: info.error, processInfoStride: info.processInfoStride },
  missingFunctions: Object.entries(info.functions).filter(([, s]) => !s).map(([k]) => k),
  resolved: info.functions,
  firstSample: first,
  secondSampleMs: second.elapsedMs,
  quickSampleMs: quick.elapsedMs,
};
if (second.available) {
  out.unsupportedFields = Object.fromEntries(second.devices.map((d) => [d.index, Object.fromEntries(Object.entries(d.errors).map(([k, v]) => [k, v.code]))]));
  out.verdicts = new GpuHealthTracker().verdicts(second.devices, Date.now());
}
const events = [];
const sub = watchGpuEvents((e) => events.push(e), { pollMs: 200 });
await new Promise((r) => setTimeout(r, seconds * 1000));
sub.stop();
out.eventsDuringWatch = events;
sampler.close();
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
