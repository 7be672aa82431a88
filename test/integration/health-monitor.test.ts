import { afterAll, describe, expect, it } from 'vitest';
import { HealthMonitor } from '../../src/health/health-monitor.js';
import { parseConfig } from '../../src/config/load.js';
import { FakeNvmlConfig, fakeGpus, useFakeNvml } from '../helpers/fake-nvml.js';

const fake = new FakeNvmlConfig({ devices: fakeGpus(2) });
useFakeNvml('full', fake);
const { gpuSampler } = await import('../../src/gpu/gpu-sampler.js');
afterAll(() => gpuSampler().close());

describe('HealthMonitor (the library form)', () => {
  it('passes the design\'s testHealthMonitoring', async () => {
    const monitor = new HealthMonitor();
    const status = await monitor.checkSystemHealth();
    expect(status.metrics.gpu_health).not.toBeUndefined();
    expect(status.metrics.memory_status).not.toBeUndefined();
  });

  it('reports GPUs from the fake NVML, and a GPU over its memory threshold', async () => {
    fake.write({ devices: [fakeGpus(1)[0]!, { ...fakeGpus(2)[1]!, memUsed: 78 * 2 ** 30 }] });
    const monitor = new HealthMonitor({ config: parseConfig({ hysteresis: { sustainSamples: 1, sustainMs: 0 } }) });
    const r = await monitor.checkSystemHealth('quick');
    const gh = r.metrics.gpu_health as { available: boolean; devices: { index: number; memory_used_fraction: number }[] };
    expect(gh.available).toBe(true);
    expect(gh.devices).toHaveLength(2);
    expect(r.breached.map((b) => b.metric)).toContain('gpu.1.memory');
    expect(r.status).toBe('degraded');
    expect(r.recommendations.some((x) => x.message.startsWith('GPU 1 memory'))).toBe(true);
  });

  it('marks the node critical when a GPU fails, naming the GPU and the way out', async () => {
    fake.write({ devices: [fakeGpus(1)[0]!, { ...fakeGpus(2)[1]!, remapFailure: 1 }] });
    const monitor = new HealthMonitor();
    const r = await monitor.checkSystemHealth('full');
    expect(r.status).toBe('critical');
    const dev = (r.metrics.gpu_health.devices as { index: number; status: string; reasons: string[] }[])[1]!;
    expect(dev.status).toBe('failed');
    expect(r.recommendations.find((x) => x.message.startsWith('GPU 1'))!.message).toMatch(/drain the node/);
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
    const probes = (r.metrics.error_rates as { probes: { name: string; errors: number; rate: number; last_error?: string }[] }).probes;
    expect(probes.find((p) => p.name === 'inference')!.errors).toBe(0);
    expect(probes.find((p) => p.name === 'broken')!.last_error).toBe('HTTP 503');
    expect(probes.find((p) => p.name === 'slow-cmd')!.last_error).toMatch(/timed out after 200 ms/);
    const rt = (r.metrics.response_times as { probes: { name: string; p95_ms: number }[] }).probes;
    expect(rt.find((p) => p.name === 'inference')!.p95_ms).toBeGreaterThan(0);
    expect(r.breached.map((b) => b.metric)).toContain('errorRate:broken');
  });
});
