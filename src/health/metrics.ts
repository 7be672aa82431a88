/**
 * Turns native samples into the report's metric objects (snake_case, as the design's result).
 * Pure functions: no I/O, no clock.
 */
import type { GpuDeviceSample, HostSample, ProcessSample } from '../native.js';
import type { GpuVerdict } from '../gpu/verdict.js';
import { round } from '../util/stats.js';
import type { GpuDeviceSummary } from './gpu-health.js';

export interface MemoryStatus {
  host: { total_bytes: number; available_bytes: number; used_bytes: number; used_fraction: number } | null;
  cgroup: {
    usage_bytes: number | null;
    working_set_bytes: number | null;
    limit_bytes: number | null;
    used_fraction: number | null;
    oom_kills: number | null;
    source: string;
  } | null;
  /** The tighter of host and cgroup: an agent dies at its cgroup limit long before the host runs out. */
  effective: { used_fraction: number; available_bytes: number; source: 'host' | 'cgroup' } | null;
  swap: { total_bytes: number; used_bytes: number } | null;
  pressure_some_avg10: number | null;
  pressure_full_avg10: number | null;
  unavailable?: Record<string, string>;
}

export function memoryStatus(s: HostSample): MemoryStatus {
  const m = s.memory;
  const host = m
    ? {
        total_bytes: m.total,
        available_bytes: m.available,
        used_bytes: m.used,
        used_fraction: round(m.used / m.total, 4),
      }
    : null;
  const cm = s.cgroup?.memory ?? null;
  let cgroup: MemoryStatus['cgroup'] = null;
  if (cm) {
    const ws = cm.workingSet ?? cm.usage;
    const frac = cm.limit !== null && ws !== null ? round(ws / cm.limit, 4) : null;
    cgroup = {
      usage_bytes: cm.usage,
      working_set_bytes: ws,
      limit_bytes: cm.limit,
      used_fraction: frac,
      oom_kills: cm.events?.oomKill ?? null,
      source: cm.source,
    };
  }
  let effective: MemoryStatus['effective'] = null;
  if (host) {
    effective = { used_fraction: host.used_fraction, available_bytes: host.available_bytes, source: 'host' };
    if (cgroup?.used_fraction != null && cgroup.limit_bytes !== null && cgroup.working_set_bytes !== null) {
      const cgAvail = Math.max(0, cgroup.limit_bytes - cgroup.working_set_bytes);
      if (cgroup.used_fraction > host.used_fraction)
        effective = {
          used_fraction: cgroup.used_fraction,
          available_bytes: Math.min(cgAvail, host.available_bytes),
          source: 'cgroup',
        };
    }
  }
  const out: MemoryStatus = {
    host,
    cgroup,
    effective,
    swap: m ? { total_bytes: m.swapTotal, used_bytes: m.swapTotal - m.swapFree } : null,
    pressure_some_avg10: s.psi?.memory?.some?.avg10 ?? null,
    pressure_full_avg10: s.psi?.memory?.full?.avg10 ?? null,
  };
  const un = Object.fromEntries(
    Object.entries(s.unavailable)
      .filter(([k]) => k === 'memory' || k === 'cgroup' || k.startsWith('psi'))
      .map(([k, v]) => [k, v.message]),
  );
  if (Object.keys(un).length) out.unavailable = un;
  return out;
}

export function cpuStatus(s: HostSample) {
  const u = s.cpu?.utilization ?? null;
  const cpus = s.cpu?.perCpu.length ?? 0;
  return {
    cpus,
    busy_fraction: u ? round(u.busy, 4) : null,
    iowait_fraction: u ? round(u.iowait, 4) : null,
    steal_fraction: u ? round(u.steal, 4) : null,
    interval_s: s.cpu ? round(s.cpu.intervalSec, 3) : null,
    load1: s.load?.load1 ?? null,
    load5: s.load?.load5 ?? null,
    load15: s.load?.load15 ?? null,
    load1_per_cpu: s.load && cpus ? round(s.load.load1 / cpus, 3) : null,
    procs_running: s.cpu?.procsRunning ?? null,
    procs_blocked: s.cpu?.procsBlocked ?? null,
  };
}

export function pressureStatus(s: HostSample) {
  const line = (k: 'cpu' | 'memory' | 'io') => {
    const p = s.psi?.[k];
    return p
      ? { some_avg10: p.some?.avg10 ?? null, some_avg60: p.some?.avg60 ?? null, full_avg10: p.full?.avg10 ?? null }
      : null;
  };
  return {
    available: s.psi !== null,
    cpu: line('cpu'),
    memory: line('memory'),
    io: line('io'),
    ...(s.psi ? {} : { reason: s.unavailable.psi?.message ?? 'PSI not available' }),
  };
}

export function cgroupStatus(s: HostSample) {
  const c = s.cgroup;
  if (!c) return { available: false, reason: s.unavailable.cgroup?.message ?? 'no cgroup' };
  return {
    available: true,
    layout: c.layout,
    path: c.v2Path ?? c.v1MemoryDir,
    memory_limit_bytes: c.memory?.limit ?? null,
    memory_usage_bytes: c.memory?.usage ?? null,
    cpu_limit_cores: c.cpu?.limitCores ?? null,
    cpu_throttled_periods: c.cpu?.nrThrottled ?? null,
    oom_kills: c.memory?.events?.oomKill ?? null,
  };
}

export function diskStatus(s: HostSample) {
  return s.filesystems.map((f) =>
    f.error
      ? { path: f.path, error: f.error.message }
      : {
          path: f.path,
          used_fraction: f.totalBytes ? round(1 - f.availableBytes! / f.totalBytes, 4) : 0,
          available_bytes: f.availableBytes!,
          total_bytes: f.totalBytes!,
          inodes_used_fraction: f.totalInodes ? round(1 - f.availableInodes! / f.totalInodes, 4) : 0,
          read_only: f.readOnly!,
        },
  );
}

export function gpuDeviceSummary(d: GpuDeviceSample, v: GpuVerdict | undefined): GpuDeviceSummary {
  return {
    index: d.index,
    uuid: d.uuid ?? null,
    name: d.name ?? null,
    status: v?.status ?? 'healthy',
    reasons: v?.reasons ?? [],
    ...(v?.notes ? { notes: v.notes } : {}),
    memory_used_fraction: d.memory ? round(d.memory.used / d.memory.total, 4) : null,
    memory_used_bytes: d.memory?.used ?? null,
    memory_total_bytes: d.memory?.total ?? null,
    utilization_gpu: d.utilization?.gpu ?? null,
    temperature_c: d.temperatureC ?? null,
    power_w: d.powerW ?? null,
    ...(d.clocksEventReasons ? { throttle_reasons: d.clocksEventReasons.names.filter((n) => n !== 'gpu_idle') } : {}),
    ...(d.processes ? { processes: d.processes.length } : {}),
  };
}

/** The largest consumers, by RSS and by CPU share since the previous scan. */
export function topProcesses(table: ProcessSample[], cpuShare: Map<number, number>, n = 5) {
  const slim = (p: ProcessSample) => ({
    pid: p.pid,
    comm: p.comm,
    state: p.state,
    rss_bytes: p.rss,
    cpu_fraction: round(cpuShare.get(p.pid) ?? 0, 4),
  });
  const byMem = [...table]
    .sort((a, b) => b.rss - a.rss)
    .slice(0, n)
    .map(slim);
  const byCpu = [...table]
    .filter((p) => (cpuShare.get(p.pid) ?? 0) > 0)
    .sort((a, b) => cpuShare.get(b.pid)! - cpuShare.get(a.pid)!)
    .slice(0, n)
    .map(slim);
  return { by_memory: byMem, by_cpu: byCpu, total: table.length };
}
