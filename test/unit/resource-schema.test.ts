import { describe, expect, it } from 'vitest';
import { manageResourcesOutput } from '../../src/mcp/tools/manage-resources.js';

const base = { status: 'success', resource_type: 'gpu', action: 'optimize', message: 'm', actions: [] };

describe("manageResources' output schema", () => {
  it('describes the usage and availability of each resource, and refuses a malformed one by its path', () => {
    const gpu = {
      ...base,
      current_usage: {
        gpus: [
          { index: 0, uuid: 'GPU-0', memory_used_fraction: 0.5, utilization_gpu: 0.1, processes: 0, leased: false },
        ],
      },
      available: { gpus: 1, indices: [0] },
    };
    expect(manageResourcesOutput.safeParse(gpu).success).toBe(true);
    const mem = {
      ...base,
      resource_type: 'memory',
      current_usage: {
        used_fraction: 0.4,
        source: 'host',
        host: { total_bytes: 1, available_bytes: 1, used_bytes: 0, used_fraction: 0 },
        cgroup: null,
      },
      available: { bytes: 10, reserved_bytes: 0, unreserved_bytes: 10 },
    };
    expect(manageResourcesOutput.safeParse(mem).success).toBe(true);
    const disk = {
      ...base,
      resource_type: 'disk',
      current_usage: {
        filesystems: [{ path: '/', total_bytes: 2, available_bytes: 1, used_fraction: 0.5, inodes_used_fraction: 0.1 }],
      },
      available: { filesystems: [{ path: '/', available_bytes: 1 }] },
    };
    expect(manageResourcesOutput.safeParse(disk).success).toBe(true);
    // Refused before reading: nothing to report.
    expect(manageResourcesOutput.safeParse({ ...base, current_usage: {}, available: {} }).success).toBe(true);
    const bad = manageResourcesOutput.safeParse({
      ...gpu,
      current_usage: { gpus: [{ ...gpu.current_usage.gpus[0], index: 'zero' }] },
    });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0].path).toEqual(['current_usage', 'gpus', 0, 'index']);
    expect(manageResourcesOutput.safeParse({ ...disk, available: { filesystems: [{ path: 7 }] } }).success).toBe(false);
  });
});
