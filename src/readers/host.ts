/** Host reader: one native call returns memory, CPU, load, PSI, cgroup and filesystems. */
import { loadNative, type HostSample, type HostSampleOptions, type NativeHostReader } from '../native.js';
import { unpackHostSample, type PackedMeta } from './packed-host.js';

let defaultReader: NativeHostReader | undefined;

type HostFlag = 'cpu' | 'perCpu' | 'memory' | 'load' | 'psi' | 'cgroup';

/** samplePacked's option bits, as the addon exports them (OVN_HOST_OPTION_BITS in native/napi/host_layout.h). */
let bits: Record<HostFlag, number> | undefined;
function flagOf(k: HostFlag, value: unknown, bit: number): number {
  if (value === undefined) return bit;
  if (typeof value !== 'boolean') throw new TypeError(`Invalid argument ${k}: expected a boolean, got ${typeof value}`);
  return value ? bit : 0;
}
// Each option and each bit read by its name (not by looping over keys, nor bits[k], which was a
// megamorphic keyed load in the profile): fixed-shape reads on every call.
function packFlags(o: HostSampleOptions = {}): number {
  const b = (bits ??= loadNative().hostOptionBits as Record<HostFlag, number>);
  return (
    flagOf('cpu', o.cpu, b.cpu) |
    flagOf('perCpu', o.perCpu, b.perCpu) |
    flagOf('memory', o.memory, b.memory) |
    flagOf('load', o.load, b.load) |
    flagOf('psi', o.psi, b.psi) |
    flagOf('cgroup', o.cgroup, b.cgroup)
  );
}

function validPid(pid: number | undefined): number {
  if (pid === undefined) return 0;
  if (!Number.isInteger(pid) || pid < 0)
    throw new TypeError(`Invalid argument cgroupPid: expected a pid >= 0 (0 = this process), got ${pid}`);
  return pid;
}

function validPaths(paths: string[] | undefined): string[] | undefined {
  if (paths === undefined) return undefined;
  if (!Array.isArray(paths) || paths.some((p) => typeof p !== 'string'))
    throw new TypeError('Invalid argument paths: expected an array of strings');
  return paths;
}

/**
 * A reader with its own CPU baseline: utilization is computed from the delta to the previous
 * sample *of this reader*, so independent consumers (a monitor and a tool call) should each have one.
 * Samples travel from C++ as one Float64Array (plus strings only when they change) and become
 * objects here: a few microseconds instead of ~250 N-API property sets.
 */
export function createHostReader(): NativeHostReader {
  const { HostReader } = loadNative();
  const r = new HostReader();
  let meta: PackedMeta | undefined;
  return {
    sample(options?: HostSampleOptions): HostSample {
      const p = r.samplePacked(packFlags(options), validPid(options?.cgroupPid), validPaths(options?.paths));
      if (p instanceof Float64Array) return unpackHostSample(p, meta!, options);
      meta = p.meta;
      return unpackHostSample(p.numbers, meta, options);
    },
    samplePacked: (flags, pid, paths) => {
      // The addon rewrites one array on every sample: callers of this method get their own copy.
      const p = r.samplePacked(flags, pid, paths);
      if (p instanceof Float64Array) return { numbers: p.slice() };
      meta = p.meta; // sample() relies on the last meta sent, whichever method received it
      return { numbers: p.numbers.slice(), meta: p.meta };
    },
    resetCpuBaseline: () => r.resetCpuBaseline(),
  };
}

/** One host sample from the process-wide default reader. Costs microseconds; runs on the caller's thread. */
export function sampleHost(options?: HostSampleOptions): HostSample {
  defaultReader ??= createHostReader();
  return defaultReader.sample(options);
}
