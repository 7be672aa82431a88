/**
 * File-descriptor exhaustion (GPUd's os component): the kernel's file table against file-max, and
 * each process of the agent's tree against its RLIMIT_NOFILE. Above the configured fraction is
 * degraded; above 0.95 the next open() is about to fail with EMFILE/ENFILE: critical.
 */
import type { ProcessFdSample } from '../native-types.js';
import type { NodeFinding } from './types.js';

export interface FdReport {
  system: { allocated: number; max: number; used_fraction: number } | null;
  processes: {
    pid: number;
    comm: string | null;
    open: number;
    soft_limit: number | null;
    used_fraction: number | null;
  }[];
  limit_fraction: number;
}

const CRITICAL = 0.95;

export function judgeFds(
  fileNr: { allocated: number; max: number } | null,
  procs: ProcessFdSample[],
  comms: Map<number, string>,
  limit: number,
): { fds: FdReport; findings: NodeFinding[] } {
  const findings: NodeFinding[] = [];
  const sev = (f: number) => (f >= Math.max(CRITICAL, limit) ? 'critical' : 'degraded');
  let system: FdReport['system'] = null;
  if (fileNr && fileNr.max > 0) {
    const f = fileNr.allocated / fileNr.max;
    system = { allocated: fileNr.allocated, max: fileNr.max, used_fraction: Math.round(f * 1e6) / 1e6 };
    if (f > limit)
      findings.push({
        check: 'file_descriptors',
        severity: sev(f),
        subject: 'file-max',
        message: `${fileNr.allocated} of ${fileNr.max} file handles in use (${(f * 100).toFixed(1)} %)`,
        action: 'find the process holding them (ls /proc/*/fd | wc) or raise fs.file-max',
      });
  }
  const processes: FdReport['processes'] = [];
  for (const p of procs) {
    if (p.open === null) continue;
    const f = p.softLimit ? p.open / p.softLimit : null;
    processes.push({
      pid: p.pid,
      comm: comms.get(p.pid) ?? null,
      open: p.open,
      soft_limit: p.softLimit,
      used_fraction: f === null ? null : Math.round(f * 1e6) / 1e6,
    });
    if (f !== null && f > limit)
      findings.push({
        check: 'file_descriptors',
        severity: sev(f),
        subject: `pid ${p.pid}`,
        message:
          `pid ${p.pid} (${comms.get(p.pid) ?? '?'}) has ${p.open} of ${p.softLimit} descriptors open ` +
          `(${(f * 100).toFixed(1)} %)`,
        action: 'a descriptor leak: restart the process, or raise its RLIMIT_NOFILE (LimitNOFILE=, ulimit -n)',
      });
  }
  processes.sort((a, b) => b.open - a.open);
  return { fds: { system, processes: processes.slice(0, 10), limit_fraction: limit }, findings };
}
