/** Host sampling: one native call returns memory, CPU, load, PSI, cgroup and filesystems. */
import { loadNative, type HostSample, type HostSampleOptions, type NativeHostReader } from '../native.js';

let defaultReader: NativeHostReader | undefined;

/**
 * A reader with its own CPU baseline: utilization is computed from the delta to the previous
 * sample *of this reader*, so independent consumers (a monitor and a tool call) should each have one.
 */
export function createHostReader(): NativeHostReader {
  const { HostReader } = loadNative();
  return new HostReader();
}

/** One host sample from the process-wide default reader. Costs microseconds; runs on the caller's thread. */
export function sampleHost(options?: HostSampleOptions): HostSample {
  defaultReader ??= createHostReader();
  return defaultReader.sample(options);
}
