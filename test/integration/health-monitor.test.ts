import { afterAll, describe, expect, it } from 'vitest';
import { HealthMonitor } from '../../src/health/health-monitor.js';
import { parseConfig } from '../../src/config/load.js';
import { FakeNvmlConfig, fakeGpus, useFakeNvml } from '../helpers/fake-nvml.js';
import { OvernightMetrics } from '../../src/metrics/prometheus.js';
import { ManualClock } from '../../src/util/clock.js';
import { gpuDevices } from '../../src/health/gpu-health.js';
import type { HealthReport } from '../../src/health/health-monitor.js';

const recentXids = (r: HealthReport) => (r.metrics.gpu_health.available ? r.metrics.gpu_health.recent_xids : undefined);

const fake = new FakeNvmlConfig({ devices: fakeGpus(2) });
useFakeNvml('full', fake);
const { gpuSampler } = await import('../../src/gpu/gpu-sampler.js');
afterAll(() => gpuSampler().close());

describe('HealthMonitor (the library form)', () => {
  it("passes the design's testHealthMonitoring", async () => {
    const monitor = new HealthMonitor();
    const status = await monitor.checkSystemHealth();
    expect(status.metrics.gpu_health).not.toBeUndefined();
    expect(status.metrics.memory_status).not.toBeUndefined();
  });

  it('reports GPUs from the fake NVML, and a GPU over its memory threshold', async () => {
    fake.write({ devices: [fakeGpus(1)[0], { ...fakeGpus(2)[1], memUsed: 78 * 2 ** 30 }] });
    const monitor = new HealthMonitor({ config: parseConfig({ hysteresis: { sustainSamples: 1, sustainMs: 0 } }) });
    const r = await monitor.checkSystemHealth('quick');
    const gh = r.metrics.gpu_health as {
      available: boolean;
      devices: { index: number; memory_used_fraction: number }[];
    };
    expect(gh.available).toBe(true);
    expect(gh.devices).toHaveLength(2);
    expect(r.breached.map((b) => b.metric)).toContain('gpu.1.memory');
    expect(r.status).toBe('degraded');
    expect(r.recommendations.some((x) => x.message.startsWith('GPU 1 memory'))).toBe(true);
  });

  it('marks the node critical when a GPU fails, naming the GPU and the way out', async () => {
    fake.write({ devices: [fakeGpus(1)[0], { ...fakeGpus(2)[1], remapFailure: 1 }] });
    const monitor = new HealthMonitor();
    const r = await monitor.checkSystemHealth('full');
    expect(r.status).toBe('critical');
    const dev = gpuDevices(r.metrics.gpu_health)[1];
    expect(dev.status).toBe('failed');
    expect(r.recommendations.find((x) => x.message.startsWith('GPU 1'))!.message).toMatch(/drain the node/);
  });

  it('application Xid (13): GPU not degraded, no reset; Xid state and metric expire (gpu.xidWindowSec)', async () => {
    fake.write({ devices: fakeGpus(2) });
    const clock = new ManualClock(Date.now());
    const monitor = new HealthMonitor({ clock, config: parseConfig({ gpu: { xidWindowSec: 60 } }) });
    const check = async () => {
      const r = await monitor.checkSystemHealth('full');
      const dev = gpuDevices(r.metrics.gpu_health).find((d) => d.index === 1)!;
      const resets = r.recommendations.filter(
        (x) => x.tool?.name === 'recoverOperation' && x.tool.arguments.operationType === 'gpu_reset',
      );
      const metrics = new OvernightMetrics({ lastXids: () => monitor.lastXids() });
      const outcome = monitor.lastGpuSample()!.outcome;
      metrics.updateGpus(outcome.available ? outcome.devices : []);
      const xidMetric = /DCGM_FI_DEV_XID_ERRORS\{gpu="1"[^}]*\} (\d+)/.exec(await metrics.text())![1];
      return { r, dev, resets, xidMetric };
    };

    monitor.recordXid(1, 13, clock.now());
    const a = await check();
    expect(a.dev.status).toBe('healthy');
    expect(a.dev.notes![0]).toMatch(/^Xid 13 .*application error; restart the application, the GPU is fine/);
    expect(a.resets).toEqual([]);
    expect(recentXids(a.r)?.[0]).toMatchObject({ xid: 13, cause: 'application' });
    expect(a.xidMetric).toBe('13');

    clock.advance(1000);
    monitor.recordXid(1, 48, clock.now());
    const b = await check();
    expect(b.dev.status).toBe('failed');
    expect(b.resets.map((x) => x.tool!.arguments.context)).toEqual([{ errorType: 'gpu_fault', gpu: 1 }]);
    expect(b.xidMetric).toBe('48');

    clock.advance(60_500);
    const c = await check();
    expect(c.dev.status).toBe('healthy');
    expect(recentXids(c.r)).toEqual([]);
    expect(c.resets).toEqual([]);
    expect(c.xidMetric).toBe('0');
  });

  it('honours cancellation', async () => {
    const monitor = new HealthMonitor();
    const ac = new AbortController();
    ac.abort();
    await expect(monitor.checkSystemHealth('full', undefined, { signal: ac.signal })).rejects.toThrow(/cancelled/);
  });

  it('runs a command probe and an HTTP probe into response_times and error_rates', async () => {
    const http = await import('node:http');
    const server = http.createServer((req, res) => res.writeHead(req.url === '/health' ? 200 : 503).end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const monitor = new HealthMonitor({
      config: parseConfig({
        probes: [
          { name: 'inference', url: `http://127.0.0.1:${port}/health`, timeoutMs: 2000 },
          { name: 'broken', url: `http://127.0.0.1:${port}/down`, timeoutMs: 2000 },
          { name: 'slow-cmd', command: ['sleep', '5'], timeoutMs: 200 },
        ],
      }),
    });
    const r = await monitor.checkSystemHealth('full');
    server.close();
    const probes = (
      r.metrics.error_rates as { probes: { name: string; errors: number; rate: number; last_error?: string }[] }
    ).probes;
    expect(probes.find((p) => p.name === 'inference')!.errors).toBe(0);
    expect(probes.find((p) => p.name === 'broken')!.last_error).toBe('HTTP 503');
    expect(probes.find((p) => p.name === 'slow-cmd')!.last_error).toMatch(/timed out after 200 ms/);
    const rt = (r.metrics.response_times as { probes: { name: string; p95_ms: number }[] }).probes;
    expect(rt.find((p) => p.name === 'inference')!.p95_ms).toBeGreaterThan(0);
    expect(r.breached.map((b) => b.metric)).toContain('errorRate:broken');
  });
});
