/**
 * A host sample's report sections (memory, CPU, pressure, cgroup, disks), made once per sample and
 * frozen. A quick check reuses one host sample for a sampler tick, hundreds of times a second;
 * every report of that tick then carries the same section objects, which nothing may change (they
 * are frozen: a write throws), so the surfaces can keep their JSON (src/mcp/json-fragments.ts).
 * A full check's fresh sample gets sections of its own.
 */
import type { HostSample } from '../native.js';
import { cgroupStatus, cpuStatus, diskStatus, memoryStatus, pressureStatus, type MemoryStatus } from './metrics.js';

/** Typed as the report's fields are; frozen at run time (a write throws in strict mode). */
export interface SampleSections {
  memory: MemoryStatus;
  cpu: ReturnType<typeof cpuStatus>;
  pressure: ReturnType<typeof pressureStatus>;
  cgroup: ReturnType<typeof cgroupStatus>;
  disk: ReturnType<typeof diskStatus>;
}

const made = new WeakMap<HostSample, SampleSections>();

/** Freezes plain data (objects and arrays) all the way down; returns it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The sections of `s`, made on first ask. The sample must not change afterwards (readers make a new one each time). */
export function sectionsOf(s: HostSample): SampleSections {
  let out = made.get(s);
  if (out === undefined) {
    out = deepFreeze({
      memory: memoryStatus(s),
      cpu: cpuStatus(s),
      pressure: pressureStatus(s),
      cgroup: cgroupStatus(s),
      disk: diskStatus(s),
    });
    made.set(s, out);
  }
  return out;
}
