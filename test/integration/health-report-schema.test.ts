/**
 * The healthCheck output schema describes the report field by field: real reports (quick, full,
 * recovery; GPUs read through the fake NVML, with an Xid and a failed verdict) validate against it,
 * and a report that breaks the GPU union does not.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig } from '../../src/config/load.js';
import { NO_DRIVER } from '../../src/health/gpu-health.js';
import { HealthMonitor } from '../../src/health/health-monitor.js';
import { healthCheckOutput } from '../../src/mcp/tools/health-check.js';
import { FakeNvmlConfig, fakeGpus, useFakeNvml } from '../helpers/fake-nvml.js';

const fake = new FakeNvmlConfig({ devices: fakeGpus(2) });
useFakeNvml('full', fake);
const { gpuSampler } = await import('../../src/gpu/gpu-sampler.js');
const gpu = gpuSampler();
afterAll(() => gpu.close());

const issues = (r: unknown) => {
  const p = healthCheckOutput.safeParse(r);
  return p.success ? [] : p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('healthCheck output schema', () => {
  it('every check type of a node with GPUs (one with an Xid that fails it) validates', async () => {
    const monitor = new HealthMonitor({ config: parseConfig({}), gpu });
    monitor.recordXid(1, 79, Date.now());
    for (const type of ['quick', 'full', 'recovery'] as const) {
      const r = await monitor.checkSystemHealth(type);
      expect(issues(r), type).toEqual([]);
      expect(r.metrics.gpu_health.available).toBe(true);
    }
    const full = await monitor.checkSystemHealth('full');
    if (!full.metrics.gpu_health.available) throw new Error('GPUs unreadable through the fake library');
    expect(full.metrics.gpu_health.devices.find((d) => d.index === 1)?.status).toBe('failed');
    expect(full.metrics.gpu_health.recent_xids?.map((x) => x.xid)).toEqual([79]);
    expect(full.metrics.suspects).toEqual({ memory_leaks: [], hangs: [], stalled_tasks: [] });
  });

  it('a node without GPUs validates; a GPU part that breaks the union is refused, naming the field', async () => {
    const r = await new HealthMonitor({ gpu: null }).checkSystemHealth('full');
    expect(issues(r)).toEqual([]);
    expect(r.metrics.gpu_health).toEqual({ available: false, reason: NO_DRIVER });
    const broken = { ...r, metrics: { ...r.metrics, gpu_health: { available: false } } };
    expect(issues(broken).join('\n')).toMatch(/metrics\.gpu_health/);
    const badDevice = {
      ...r,
      metrics: {
        ...r.metrics,
        gpu_health: {
          available: true,
          driver_version: '1',
          device_count: 1,
          devices: [{ index: 0, status: 'ok' }],
          sample_ms: 1,
        },
      },
    };
    expect(issues(badDevice).join('\n')).toMatch(/metrics\.gpu_health/);
  });

  it('converts to a JSON Schema that names the fields (what tools/list shows a client)', () => {
    const js = z.toJSONSchema(healthCheckOutput, { io: 'output' }) as unknown as {
      properties: { metrics: { properties: Record<string, { properties?: object; oneOf?: unknown[] }> } };
    };
    const m = js.properties.metrics.properties;
    expect(m.gpu_health.oneOf).toHaveLength(2);
    for (const k of ['memory_status', 'cpu', 'pressure', 'response_times', 'error_rates', 'recovery_status'])
      expect(Object.keys(m[k].properties ?? {}).length, k).toBeGreaterThan(2);
  });
});
