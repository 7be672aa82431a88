/** Where a scrape of the monitor's /metrics reads the node (see ScrapeSources). */
import type { OvernightContext } from '../context.js';
import { createHostReader } from '../readers/host.js';
import type { ScrapeSources } from './prometheus.js';

/**
 * The host through a HostReader of its own (kept-open /proc fds, microseconds; its own CPU
 * baseline, so the health checks' utilization is not disturbed), and the GPUs through the shared
 * GPU thread, bounded so that a hung driver cannot hang the scrape.
 */
export function scrapeSources(ctx: Pick<OvernightContext, 'config' | 'gpu' | 'health'>): ScrapeSources {
  const reader = createHostReader();
  const paths = ctx.config.paths;
  const gpu = ctx.gpu;
  return {
    host: () => reader.sample({ cpu: false, perCpu: false, cgroup: true, paths }),
    // The health engine's Xid state, which expires after gpu.xidWindowSec (dcgm-exporter shows the last Xid).
    lastXids: () => ctx.health.lastXids(),
    ...(gpu
      ? {
          gpus: async () => {
            const r = await gpu.sample({ processes: false, timeoutMs: Math.min(ctx.config.gpuTimeoutMs, 3000) });
            return r.available ? r.devices : null;
          },
        }
      : {}),
  };
}
