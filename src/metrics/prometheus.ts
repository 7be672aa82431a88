/**
 * Prometheus exposition (prom-client), named the way node_exporter (node_*) and dcgm-exporter
 * (DCGM_FI_DEV_*) name theirs, so existing dashboards and alert rules apply; overnight_* for health,
 * recovery, progress and the monitor's own cost.
 */
import { createServer, type Server } from 'node:http';
import client from 'prom-client';
import type { GpuDeviceSample, HostSample } from '../native.js';
import type { HealthReport } from '../health/health-monitor.js';

export class OvernightMetrics {
  readonly registry = new client.Registry();
  private readonly g: Record<string, client.Gauge<string>> = {};
  /** Totals the kernel or NVML keeps (PSI stall time, ECC, PCIe replays), by metric and label set. */
  private readonly totals: Record<string, Map<string, { labels: Record<string, string>; value: number }>> = {};
  readonly recoveries: client.Counter<string>;
  readonly cycles: client.Histogram<string>;
  readonly alerts: client.Counter<string>;
  readonly wakeups: client.Counter<string>;

  constructor() {
    // The monitor's own cost (CPU, RSS, heap, GC). Event-loop lag is sampled once a second, not the
    // default 10 ms, which alone would cost more than the rest of an idle monitor.
    client.collectDefaultMetrics({ register: this.registry, prefix: 'overnight_monitor_', eventLoopMonitoringPrecision: 1000 });
    const gauge = (name: string, help: string, labelNames: string[] = []) => {
      this.g[name] = new client.Gauge({ name, help, labelNames, registers: [this.registry] });
    };
    gauge('node_memory_MemTotal_bytes', 'Memory information field MemTotal_bytes.');
    gauge('node_memory_MemAvailable_bytes', 'Memory information field MemAvailable_bytes.');
    gauge('node_memory_SwapTotal_bytes', 'Memory information field SwapTotal_bytes.');
    gauge('node_memory_SwapFree_bytes', 'Memory information field SwapFree_bytes.');
    gauge('node_load1', '1m load average.');
    gauge('node_load5', '5m load average.');
    gauge('node_load15', '15m load average.');
    // Counters, as node_exporter and dcgm-exporter declare them: the value is the source's own
    // running total, mirrored at each scrape (so rate() and counter-reset handling apply).
    const totals = this.totals;
    const counter = (name: string, help: string, labelNames: string[] = []) => {
      const values = (totals[name] = new Map());
      new client.Counter({
        name,
        help,
        labelNames,
        registers: [this.registry],
        collect() {
          this.reset();
          if (!values.size && !labelNames.length) this.remove(); // unknown: absent, not 0
          for (const { labels, value } of values.values()) this.inc(labels, value);
        },
      });
    };
    counter('node_pressure_cpu_waiting_seconds_total', 'Total time in seconds that processes have waited for CPU time');
    counter('node_pressure_memory_waiting_seconds_total', 'Total time in seconds that processes have waited for memory');
    counter('node_pressure_memory_stalled_seconds_total', 'Total time in seconds no process could make progress due to memory congestion');
    counter('node_pressure_io_waiting_seconds_total', 'Total time in seconds that processes have waited due to IO congestion');
    gauge('node_filesystem_size_bytes', 'Filesystem size in bytes.', ['mountpoint']);
    gauge('node_filesystem_avail_bytes', 'Filesystem space available to non-root users in bytes.', ['mountpoint']);
    gauge('node_filesystem_files', 'Filesystem total file nodes.', ['mountpoint']);
    gauge('node_filesystem_files_free', 'Filesystem total free file nodes.', ['mountpoint']);
    gauge('overnight_cgroup_memory_usage_bytes', 'Memory usage of the watched cgroup.');
    gauge('overnight_cgroup_memory_limit_bytes', 'Memory limit of the watched cgroup (absent when unlimited).');
    gauge('overnight_cgroup_oom_kills', 'OOM kills in the watched cgroup since it was created.');
    const gpu = ['gpu', 'UUID', 'modelName'];
    gauge('DCGM_FI_DEV_GPU_UTIL', 'GPU utilization (in %).', gpu);
    gauge('DCGM_FI_DEV_MEM_COPY_UTIL', 'Memory utilization (in %).', gpu);
    gauge('DCGM_FI_DEV_FB_USED', 'Framebuffer memory used (in MiB).', gpu);
    gauge('DCGM_FI_DEV_FB_FREE', 'Framebuffer memory free (in MiB).', gpu);
    gauge('DCGM_FI_DEV_GPU_TEMP', 'GPU temperature (in C).', gpu);
    gauge('DCGM_FI_DEV_POWER_USAGE', 'Power draw (in W).', gpu);
    gauge('DCGM_FI_DEV_SM_CLOCK', 'SM clock frequency (in MHz).', gpu);
    gauge('DCGM_FI_DEV_MEM_CLOCK', 'Memory clock frequency (in MHz).', gpu);
    gauge('DCGM_FI_DEV_CLOCK_THROTTLE_REASONS', 'Current clock throttle reasons (bit mask).', gpu);
    counter('DCGM_FI_DEV_ECC_DBE_VOL_TOTAL', 'Total number of double-bit volatile ECC errors.', gpu);
    counter('DCGM_FI_DEV_ECC_SBE_VOL_TOTAL', 'Total number of single-bit volatile ECC errors.', gpu);
    counter('DCGM_FI_DEV_PCIE_REPLAY_COUNTER', 'Total number of PCIe retries.', gpu);
    gauge('DCGM_FI_DEV_ROW_REMAP_FAILURE', 'Whether remapping of rows has failed.', gpu);
    gauge('DCGM_FI_DEV_XID_ERRORS', 'Value of the last XID error encountered.', gpu);
    gauge('overnight_gpu_healthy', '1 when the GPU verdict is healthy, 0.5 degraded, 0 failed.', gpu);
    gauge('overnight_health_status', 'Node health: 1 for the current status.', ['status']);
    gauge('overnight_threshold_breached', '1 while a threshold is breached.', ['metric']);
    gauge('overnight_task_completion', 'Latest completion of a tracked task (0-1).', ['task']);
    gauge('overnight_task_stalled', '1 when a task has not checkpointed within its interval.', ['task']);
    gauge('overnight_leak_suspects', 'Processes whose memory grows steadily.');
    gauge('overnight_hang_suspects', 'Processes that look hung.');
    gauge('overnight_monitor_last_cycle_timestamp_seconds', 'When the monitor last completed a cycle.');
    this.recoveries = new client.Counter({ name: 'overnight_recoveries_total', help: 'Recoveries run, by operation and status.', labelNames: ['operation', 'status'], registers: [this.registry] });
    this.alerts = new client.Counter({ name: 'overnight_alerts_total', help: 'Alerts, by outcome (sent, deduplicated, rate_limited).', labelNames: ['outcome'], registers: [this.registry] });
    this.wakeups = new client.Counter({ name: 'overnight_monitor_wakeups_total', help: 'Monitor cycles, by what woke it.', labelNames: ['trigger'], registers: [this.registry] });
    this.cycles = new client.Histogram({ name: 'overnight_monitor_cycle_seconds', help: 'Time one monitor cycle took.', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30], registers: [this.registry] });
  }

  set(name: string, value: number | null | undefined, labels: Record<string, string> = {}): void {
    const total = this.totals[name];
    if (total) {
      const key = JSON.stringify(labels);
      if (value === null || value === undefined || !Number.isFinite(value) || value < 0) total.delete(key);
      else total.set(key, { labels, value });
      return;
    }
    const g = this.g[name];
    if (!g) throw new Error(`no metric ${name}`);
    if (value === null || value === undefined || !Number.isFinite(value)) g.remove(labels);
    else g.set(labels, value);
  }

  updateHost(s: HostSample): void {
    const m = s.memory;
    if (m) {
      this.set('node_memory_MemTotal_bytes', m.total);
      this.set('node_memory_MemAvailable_bytes', m.available);
      this.set('node_memory_SwapTotal_bytes', m.swapTotal);
      this.set('node_memory_SwapFree_bytes', m.swapFree);
    }
    if (s.load) {
      this.set('node_load1', s.load.load1);
      this.set('node_load5', s.load.load5);
      this.set('node_load15', s.load.load15);
    }
    const secs = (us: number | undefined) => (us === undefined ? null : us / 1e6);
    this.set('node_pressure_cpu_waiting_seconds_total', secs(s.psi?.cpu?.some?.totalUs));
    this.set('node_pressure_memory_waiting_seconds_total', secs(s.psi?.memory?.some?.totalUs));
    this.set('node_pressure_memory_stalled_seconds_total', secs(s.psi?.memory?.full?.totalUs));
    this.set('node_pressure_io_waiting_seconds_total', secs(s.psi?.io?.some?.totalUs));
    for (const f of s.filesystems) {
      if (f.error) continue;
      const l = { mountpoint: f.path };
      this.set('node_filesystem_size_bytes', f.totalBytes, l);
      this.set('node_filesystem_avail_bytes', f.availableBytes, l);
      this.set('node_filesystem_files', f.totalInodes, l);
      this.set('node_filesystem_files_free', f.freeInodes, l);
    }
    const cg = s.cgroup?.memory;
    this.set('overnight_cgroup_memory_usage_bytes', cg?.usage);
    this.set('overnight_cgroup_memory_limit_bytes', cg?.limit);
    this.set('overnight_cgroup_oom_kills', cg?.events?.oomKill);
  }

  updateGpus(devices: GpuDeviceSample[], statuses: Map<number, string>, lastXid: Map<number, number>): void {
    const MiB = 2 ** 20;
    for (const d of devices) {
      const l = { gpu: String(d.index), UUID: d.uuid ?? '', modelName: d.name ?? '' };
      // A field a quick sample did not read (undefined) keeps its last value: a counter must not
      // vanish from one scrape to the next because the monitor's last check was a quick one.
      const put = <T>(name: string, v: T | null | undefined, f: (x: T) => number | null | undefined = (x) => x as number | null) => {
        if (v !== undefined) this.set(name, v === null ? null : f(v), l);
      };
      put('DCGM_FI_DEV_GPU_UTIL', d.utilization, (u) => u.gpu * 100);
      put('DCGM_FI_DEV_MEM_COPY_UTIL', d.utilization, (u) => u.memory * 100);
      put('DCGM_FI_DEV_FB_USED', d.memory, (m) => m.used / MiB);
      put('DCGM_FI_DEV_FB_FREE', d.memory, (m) => m.free / MiB);
      put('DCGM_FI_DEV_GPU_TEMP', d.temperatureC);
      put('DCGM_FI_DEV_POWER_USAGE', d.powerW);
      put('DCGM_FI_DEV_SM_CLOCK', d.smClockMhz);
      put('DCGM_FI_DEV_MEM_CLOCK', d.memClockMhz);
      put('DCGM_FI_DEV_CLOCK_THROTTLE_REASONS', d.clocksEventReasons, (c) => c.mask);
      put('DCGM_FI_DEV_ECC_DBE_VOL_TOTAL', d.eccUncorrectedVolatile);
      put('DCGM_FI_DEV_ECC_SBE_VOL_TOTAL', d.eccCorrectedVolatile);
      put('DCGM_FI_DEV_PCIE_REPLAY_COUNTER', d.pcieReplayCounter);
      put('DCGM_FI_DEV_ROW_REMAP_FAILURE', d.remappedRows, (r) => (r.failure ? 1 : 0));
      this.set('DCGM_FI_DEV_XID_ERRORS', lastXid.get(d.index) ?? 0, l);
      const st = statuses.get(d.index) ?? 'healthy';
      this.set('overnight_gpu_healthy', st === 'healthy' ? 1 : st === 'degraded' ? 0.5 : 0, l);
    }
  }

  updateHealth(r: HealthReport, breachedKnown: Set<string>): void {
    for (const s of ['healthy', 'degraded', 'critical']) this.set('overnight_health_status', s === r.status ? 1 : 0, { status: s });
    const now = new Set(r.breached.map((b) => b.metric));
    for (const m of new Set([...breachedKnown, ...now])) {
      this.set('overnight_threshold_breached', now.has(m) ? 1 : 0, { metric: m });
      breachedKnown.add(m);
    }
    const sus = r.metrics.suspects;
    if (sus) {
      this.set('overnight_leak_suspects', sus.memory_leaks.length);
      this.set('overnight_hang_suspects', sus.hangs.length);
    }
  }

  updateTasks(tasks: { task_id: string; completion: number | null }[], stalled: Set<string>): void {
    for (const t of tasks) {
      this.set('overnight_task_completion', t.completion, { task: t.task_id });
      this.set('overnight_task_stalled', stalled.has(t.task_id) ? 1 : 0, { task: t.task_id });
    }
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Serves /metrics (and /healthz) on host:port. */
export async function serveMetrics(metrics: OvernightMetrics, port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (url === '/metrics') {
      metrics
        .text()
        .then((t) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(t))
        .catch((err: Error) => res.writeHead(500).end(err.message));
    } else if (url === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('overnight-ops: metrics are at /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}
