/**
 * Prometheus exposition (prom-client), named the way node_exporter (node_*) and dcgm-exporter
 * (DCGM_FI_DEV_*) name theirs, so existing dashboards and alert rules apply; overnight_* for health,
 * recovery, progress and the monitor's own cost.
 *
 * Node and GPU readings are collected at scrape time, as exporters do (prom-client `collect()`):
 * a scrape reads the host through its own HostReader and the GPUs through the GPU thread, so
 * `node_load1` and the PSI counters are as fresh as node_exporter's whatever the monitor's cycle
 * interval; the cycle only paces decisions (health status, GPU verdicts, tasks).
 */
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import client from 'prom-client';
import type { GpuDeviceSample, HostSample, MemorySample } from '../native.js';
import type { XidSeverity } from '../gpu/xid.js';
import type { HealthReport } from '../health/health-monitor.js';
import { mountOf, readMounts, type MountEntry } from '../readers/mounts.js';

/** Where a scrape reads the node. Either may be absent (then those series are absent). */
export interface ScrapeSources {
  /** A host sample taken now, with the watched filesystems statvfs'd (microseconds). */
  host?: () => HostSample | null;
  /** The GPUs now; null when NVML did not answer in time (the last reading stays). */
  gpus?: () => Promise<GpuDeviceSample[] | null>;
  /** The mount table (default: /proc/self/mountinfo, read per scrape). */
  mounts?: () => MountEntry[];
  /** Each GPU's last Xid still inside gpu.xidWindowSec (default: the last one recorded here, never expired). */
  lastXids?: () => Map<number, number>;
}

/** node_exporter's meminfo field names for the fields our reader keeps. */
type NumericMemoryField = { [K in keyof MemorySample]: MemorySample[K] extends number ? K : never }[keyof MemorySample];
const MEMINFO: Record<string, NumericMemoryField> = {
  MemTotal: 'total',
  MemFree: 'free',
  MemAvailable: 'available',
  Buffers: 'buffers',
  Cached: 'cached',
  SwapCached: 'swapCached',
  Active: 'active',
  Inactive: 'inactive',
  SReclaimable: 'sReclaimable',
  SUnreclaim: 'sUnreclaim',
  Shmem: 'shmem',
  AnonPages: 'anon',
  Mapped: 'mapped',
  Dirty: 'dirty',
  Writeback: 'writeback',
  SwapTotal: 'swapTotal',
  SwapFree: 'swapFree',
};

/**
 * The classifier's Xid classes (src/gpu/xid.ts): each GPU's counter starts at 0 for each, so increase() sees the first
 * Xid.
 */
const XID_CLASSES = ['info', 'application', 'degraded', 'fatal'] as const satisfies readonly XidSeverity[];

/** prom-client's default gauges that end in _total (promtool: "non-counter metrics should not have _total"). */
const TOTAL_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];
import { NodeCheckMetrics } from './node-checks-metrics.js';

export class OvernightMetrics {
  readonly registry = new client.Registry();
  private readonly g: Record<string, client.Gauge> = {};
  /** Totals the kernel or NVML keeps (PSI stall time, ECC, PCIe replays), by metric and label set. */
  private readonly totals: Record<string, Map<string, { labels: Record<string, string>; value: number }>> = {};
  readonly recoveries: client.Counter;
  readonly cycles: client.Histogram;
  readonly alerts: client.Counter;
  readonly wakeups: client.Counter;
  readonly xids: client.Counter;
  /** The monitor's PSI triggers at scrape time (set by the monitor once it has armed them). */
  psiTriggers: (() => { name: string; path: string; mode: string; armed: boolean; rearms: number }[]) | undefined;
  private readonly host = hostname();
  /** dcgm-exporter's label set per GPU index, from the last GPU reading. */
  private readonly gpuLabels = new Map<number, Record<string, string>>();
  private gpuStatuses = new Map<number, string>();
  private readonly lastXid = new Map<number, number>();
  private readonly pendingXids = new Map<number, Map<string, number>>();
  private scrape: Promise<void> | undefined;
  /** InfiniBand (node_infiniband_*), file table, mounts, daemons, zombies, operator checks. */
  readonly nodeChecks: NodeCheckMetrics;

  constructor(private readonly sources: ScrapeSources = {}) {
    // The monitor's own cost (CPU, RSS, heap, GC). Event-loop lag is sampled once a second, not the
    // default 10 ms, which alone would cost more than the rest of an idle monitor.
    const prefix = 'overnight_monitor_';
    client.collectDefaultMetrics({ register: this.registry, prefix, eventLoopMonitoringPrecision: 1000 });
    // The per-type gauges (…_active_handles{type}) stay; their sums are what `sum()` gives.
    for (const n of TOTAL_GAUGES) this.registry.removeSingleMetric(prefix + n);
    // Node and GPU series are read when Prometheus asks, once per scrape for all of them.
    const scraped = (name: string) =>
      name.startsWith('node_') ||
      name.startsWith('DCGM_') ||
      name.startsWith('overnight_cgroup_') ||
      name === 'overnight_gpu_healthy';
    const refresh = () => this.refresh();
    const gauge = (name: string, help: string, labelNames: string[] = []) => {
      this.g[name] = new client.Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        ...(scraped(name) ? { collect: refresh } : {}),
      });
    };
    for (const field of Object.keys(MEMINFO))
      gauge(`node_memory_${field}_bytes`, `Memory information field ${field}_bytes.`);
    gauge('node_load1', '1m load average.');
    gauge('node_load5', '5m load average.');
    gauge('node_load15', '15m load average.');
    // Counters, as node_exporter and dcgm-exporter declare them: the value is the source's own
    // running total, mirrored at each scrape (so rate() and counter-reset handling apply).
    const totals = this.totals;
    const counter = (name: string, help: string, labelNames: string[] = []) => {
      const values = (totals[name] = new Map<string, { labels: Record<string, string>; value: number }>());
      new client.Counter({
        name,
        help,
        labelNames,
        registers: [this.registry],
        async collect() {
          if (scraped(name)) await refresh();
          this.reset();
          if (!values.size && !labelNames.length) this.remove(); // unknown: absent, not 0
          for (const { labels, value } of values.values()) this.inc(labels, value);
        },
      });
    };
    counter('node_pressure_cpu_waiting_seconds_total', 'Total time in seconds that processes have waited for CPU time');
    counter(
      'node_pressure_memory_waiting_seconds_total',
      'Total time in seconds that processes have waited for memory',
    );
    counter(
      'node_pressure_memory_stalled_seconds_total',
      'Total time in seconds no process could make progress due to memory congestion',
    );
    counter(
      'node_pressure_io_waiting_seconds_total',
      'Total time in seconds that processes have waited due to IO congestion',
    );
    counter(
      'node_pressure_io_stalled_seconds_total',
      'Total time in seconds no process could make progress due to IO congestion',
    );
    counter(
      'node_pressure_cpu_stalled_seconds_total',
      'Total time in seconds no process could make progress due to CPU congestion',
    );
    // node_exporter's labels, one series per filesystem (not per configured path).
    const fs = ['device', 'fstype', 'mountpoint'];
    gauge('node_filesystem_size_bytes', 'Filesystem size in bytes.', fs);
    gauge('node_filesystem_free_bytes', 'Filesystem free space in bytes.', fs);
    gauge('node_filesystem_avail_bytes', 'Filesystem space available to non-root users in bytes.', fs);
    gauge('node_filesystem_files', 'Filesystem total file nodes.', fs);
    gauge('node_filesystem_files_free', 'Filesystem total free file nodes.', fs);
    gauge('node_filesystem_readonly', 'Filesystem read-only status.', fs);
    gauge('overnight_cgroup_memory_usage_bytes', 'Memory usage of the watched cgroup.');
    gauge('overnight_cgroup_memory_limit_bytes', 'Memory limit of the watched cgroup (absent when unlimited).');
    gauge('overnight_cgroup_oom_kills', 'OOM kills in the watched cgroup since it was created.');
    // dcgm-exporter's labels (Hostname is the node's, as dcgm-exporter sets it outside Kubernetes).
    const gpu = ['gpu', 'UUID', 'pci_bus_id', 'device', 'modelName', 'Hostname'];
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
    this.recoveries = new client.Counter({
      name: 'overnight_recoveries_total',
      help: 'Recoveries run, by operation and status.',
      labelNames: ['operation', 'status'],
      registers: [this.registry],
    });
    this.alerts = new client.Counter({
      name: 'overnight_alerts_total',
      help: 'Alerts, by outcome (sent, deduplicated, rate_limited).',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    // Which pressure files the monitor watches and whether each is armed now (a watched cgroup that
    // was removed reads 0 until it is re-created and re-armed; rearms counts those).
    const psi = () => this.psiTriggers?.() ?? [];
    new client.Gauge({
      name: 'overnight_psi_trigger_armed',
      help: 'PSI memory trigger per watched pressure file: 1 armed, 0 file gone (cgroup removed); mode kernel or poll.',
      labelNames: ['name', 'path', 'mode'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const t of psi()) this.set({ name: t.name, path: t.path, mode: t.mode }, t.armed ? 1 : 0);
      },
    });
    new client.Counter({
      name: 'overnight_psi_trigger_rearms_total',
      help: 'Times a watched cgroup pressure file was armed again after its cgroup was removed and re-created.',
      labelNames: ['name'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const t of psi()) if (t.name !== 'system') this.inc({ name: t.name }, t.rearms);
      },
    });
    this.wakeups = new client.Counter({
      name: 'overnight_monitor_wakeups_total',
      help: 'Monitor cycles, by what woke it.',
      labelNames: ['trigger'],
      registers: [this.registry],
    });
    // Xids by class, so rules can alert on recent fatal ones only (Xid 13 is an application's bug).
    this.xids = new client.Counter({
      name: 'overnight_gpu_xid_errors_total',
      help:
        'Xid errors reported by the driver, by GPU and Xid class (the classifier severity, in a label of its ' +
        'own so it cannot clash with alert severities).',
      labelNames: [...gpu, 'xid_class'],
      registers: [this.registry],
      collect: refresh,
    });
    this.nodeChecks = new NodeCheckMetrics(this.registry);
    this.cycles = new client.Histogram({
      name: 'overnight_monitor_cycle_seconds',
      help: 'Time one monitor cycle took.',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [this.registry],
    });
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
    if (m) for (const [field, key] of Object.entries(MEMINFO)) this.set(`node_memory_${field}_bytes`, m[key]);
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
    this.set('node_pressure_io_stalled_seconds_total', secs(s.psi?.io?.full?.totalUs));
    this.set('node_pressure_cpu_stalled_seconds_total', secs(s.psi?.cpu?.full?.totalUs));
    const fsNames = [
      'node_filesystem_size_bytes',
      'node_filesystem_free_bytes',
      'node_filesystem_avail_bytes',
      'node_filesystem_files',
      'node_filesystem_files_free',
      'node_filesystem_readonly',
    ];
    for (const n of fsNames) this.g[n]!.reset(); // an unmounted filesystem's series goes
    const seen = new Set<string>();
    const fsOk = s.filesystems.filter((f) => !f.error);
    const mounts = fsOk.length ? (this.sources.mounts ?? readMounts)() : [];
    for (const f of fsOk) {
      const m = mountOf(f.path, mounts);
      if (!m || seen.has(m.mountPoint)) continue; // two paths on one filesystem: one series
      seen.add(m.mountPoint);
      const l = { device: m.device, fstype: m.fstype, mountpoint: m.mountPoint };
      this.set('node_filesystem_size_bytes', f.totalBytes, l);
      this.set('node_filesystem_free_bytes', f.freeBytes, l);
      this.set('node_filesystem_avail_bytes', f.availableBytes, l);
      this.set('node_filesystem_files', f.totalInodes, l);
      this.set('node_filesystem_files_free', f.freeInodes, l);
      this.set('node_filesystem_readonly', f.readOnly === undefined ? null : f.readOnly ? 1 : 0, l);
    }
    const cg = s.cgroup?.memory;
    this.set('overnight_cgroup_memory_usage_bytes', cg?.usage);
    this.set('overnight_cgroup_memory_limit_bytes', cg?.limit);
    this.set('overnight_cgroup_oom_kills', cg?.events?.oomKill);
  }

  /** Sets the DCGM series from one GPU reading (at scrape time). FB in whole MiB, as DCGM reports it. */
  updateGpus(devices: GpuDeviceSample[]): void {
    const MiB = 2 ** 20;
    for (const d of devices) {
      const l = this.labelsOf(d);
      // A field a quick sample did not read (undefined) keeps its last value: a counter must not
      // vanish from one scrape to the next because the last reading was a quick one.
      const put = <T>(
        name: string,
        v: T | null | undefined,
        f: (x: T) => number | null | undefined = (x) => x as number | null,
      ) => {
        if (v !== undefined) this.set(name, v === null ? null : f(v), l);
      };
      put('DCGM_FI_DEV_GPU_UTIL', d.utilization, (u) => Math.round(u.gpu * 100));
      put('DCGM_FI_DEV_MEM_COPY_UTIL', d.utilization, (u) => Math.round(u.memory * 100));
      put('DCGM_FI_DEV_FB_USED', d.memory, (m) => Math.floor(m.used / MiB));
      put('DCGM_FI_DEV_FB_FREE', d.memory, (m) => Math.floor(m.free / MiB));
      put('DCGM_FI_DEV_GPU_TEMP', d.temperatureC);
      put('DCGM_FI_DEV_POWER_USAGE', d.powerW);
      put('DCGM_FI_DEV_SM_CLOCK', d.smClockMhz);
      put('DCGM_FI_DEV_MEM_CLOCK', d.memClockMhz);
      put('DCGM_FI_DEV_CLOCK_THROTTLE_REASONS', d.clocksEventReasons, (c) => c.mask);
      put('DCGM_FI_DEV_ECC_DBE_VOL_TOTAL', d.eccUncorrectedVolatile);
      put('DCGM_FI_DEV_ECC_SBE_VOL_TOTAL', d.eccCorrectedVolatile);
      put('DCGM_FI_DEV_PCIE_REPLAY_COUNTER', d.pcieReplayCounter);
      put('DCGM_FI_DEV_ROW_REMAP_FAILURE', d.remappedRows, (r) => (r.failure ? 1 : 0));
      this.set('DCGM_FI_DEV_XID_ERRORS', (this.sources.lastXids?.() ?? this.lastXid).get(d.index) ?? 0, l);
      const st = this.gpuStatuses.get(d.index) ?? 'healthy';
      this.set('overnight_gpu_healthy', st === 'healthy' ? 1 : st === 'degraded' ? 0.5 : 0, l);
    }
  }

  /** dcgm-exporter's labels for a GPU; its Xid counters start at 0 the first time it is seen. */
  private labelsOf(d: GpuDeviceSample): Record<string, string> {
    // `device` is nvidia<minor> in dcgm-exporter; NVML numbers minors in index order on a plain node.
    const l = {
      gpu: String(d.index),
      UUID: d.uuid ?? '',
      pci_bus_id: d.busId ?? '',
      device: `nvidia${d.index}`,
      modelName: d.name ?? '',
      Hostname: this.host,
    };
    const prev = this.gpuLabels.get(d.index);
    if (!prev || JSON.stringify(prev) !== JSON.stringify(l)) {
      for (const xid_class of XID_CLASSES) this.xids.inc({ ...l, xid_class }, 0);
      for (const [xid_class, n] of this.pendingXids.get(d.index) ?? []) this.xids.inc({ ...l, xid_class }, n);
      this.pendingXids.delete(d.index);
      this.gpuLabels.set(d.index, l);
    }
    return l;
  }

  /** The monitor's GPU verdicts (one per cycle); the scrape renders them with the GPU's labels. */
  setGpuStatuses(statuses: Map<number, string>): void {
    this.gpuStatuses = statuses;
  }

  /** Counts one Xid under its class (the classifier's severity) and remembers it as the GPU's last. */
  recordXid(gpuIndex: number, xid: number, severity: string): void {
    this.lastXid.set(gpuIndex, xid);
    const l = this.gpuLabels.get(gpuIndex);
    if (l) {
      this.xids.inc({ ...l, xid_class: severity });
      return;
    }
    // Before the first GPU reading the labels are unknown: counted once they are (labelsOf).
    const pending = this.pendingXids.get(gpuIndex) ?? new Map<string, number>();
    pending.set(severity, (pending.get(severity) ?? 0) + 1);
    this.pendingXids.set(gpuIndex, pending);
  }

  /**
   * Reads the node once per scrape: every scraped metric's collect() awaits the same read, so one
   * exposition is one consistent moment. A read failing leaves those series as they were.
   */
  private refresh(): Promise<void> {
    // prom-client calls every metric's collect() in the same tick of one scrape: they share the
    // read in flight, and the next scrape reads anew.
    if (this.scrape) return this.scrape;
    const done = (async () => {
      try {
        const h = this.sources.host?.();
        if (h) this.updateHost(h);
      } catch (err) {
        process.stderr.write(`overnight: metrics: host read failed: ${(err as Error).message}\n`);
      }
      const gpus = await this.sources.gpus?.().catch(() => null);
      if (gpus) this.updateGpus(gpus);
    })().finally(() => {
      this.scrape = undefined;
    });
    this.scrape = done;
    return done;
  }

  updateHealth(r: HealthReport, breachedKnown: Set<string>): void {
    for (const s of ['healthy', 'degraded', 'critical'])
      this.set('overnight_health_status', s === r.status ? 1 : 0, { status: s });
    const now = new Set(r.breached.map((b) => b.metric));
    for (const m of new Set([...breachedKnown, ...now])) {
      this.set('overnight_threshold_breached', now.has(m) ? 1 : 0, { metric: m });
      breachedKnown.add(m);
    }
    if (r.metrics.node_checks) this.nodeChecks.update(r.metrics.node_checks);
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

  /**
   * overnight_events_total{source,kind,severity}: the shared event history's rows (kernel lines,
   * NVML events, boots, ...), counted at scrape time. Retention deletes old rows, which Prometheus
   * sees as a counter reset.
   */
  attachEvents(source: { counts(): { source: string; kind: string; severity: string; count: number }[] }): void {
    new client.Counter({
      name: 'overnight_events_total',
      help: 'Events in the node history, by source, kind and severity.',
      labelNames: ['source', 'kind', 'severity'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const c of source.counts()) this.inc({ source: c.source, kind: c.kind, severity: c.severity }, c.count);
      },
    });
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
        .catch((err: unknown) => res.writeHead(500).end((err as Error).message));
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
