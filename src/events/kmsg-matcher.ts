/**
 * Turns kernel-log records into events by the catalog in kmsg-catalog.ts. Only kernel lines
 * (facility kern) and lines root wrote to /dev/kmsg (facility user) are matched: daemons that log
 * through /dev/kmsg (systemd, facility daemon) are not the kernel's testimony.
 */
import { classifyXid, type XidSeverity } from '../gpu/xid.js';
import { KMSG_RULES, type KmsgRule } from './kmsg-catalog.js';
import type { EventSeverity, EventSubject } from './types.js';

export interface KmsgMatch {
  kind: string;
  severity: EventSeverity;
  rule: string;
  subject: EventSubject;
}

export interface MatchContext {
  /** GPU index by normalized PCI bus id ("0000:3b:00.0"), where NVML knows the GPUs. */
  gpuIndexByBusId?: ReadonlyMap<string, number>;
  /** Whether a pid was in the agent's scope (from the process history); undefined when unknown. */
  inScope?: (pid: number) => boolean | undefined;
}

const FACILITY_KERN = 0;
const FACILITY_USER = 1;

const XID_SEVERITY: Record<XidSeverity, EventSeverity> = {
  fatal: 'critical',
  degraded: 'warning',
  application: 'warning',
  info: 'info',
};
const NUMERIC = new Set(['pid', 'xid', 'sxid', 'seconds', 'cpu', 'sector', 'block']);

/**
 * Normalizes a PCI bus id the way both the kernel ("0000:3b:00") and NVML ("00000000:3B:00.0")
 * write it, to "0000:3b:00.0".
 */
export function normalizeBusId(id: string): string {
  const m = /^(?:([0-9a-f]+):)?([0-9a-f]{2}):([0-9a-f]{2})(?:\.([0-7]))?$/i.exec(id.trim());
  if (!m) return id.toLowerCase();
  const domain = (m[1] ?? '0').replace(/^0+/, '').padStart(4, '0').toLowerCase();
  return `${domain}:${m[2]!.toLowerCase()}:${m[3]!.toLowerCase()}.${m[4] ?? '0'}`;
}

function subjectOf(rule: KmsgRule, groups: Record<string, string | undefined>, ctx: MatchContext): EventSubject {
  const s: EventSubject = { rule: rule.id };
  for (const [k, v] of Object.entries(groups)) {
    if (v === undefined || v === '' || k === 'detail' || k === 'pci') continue;
    if (NUMERIC.has(k)) {
      const n = Number(v);
      if (Number.isFinite(n)) s[k] = n; // pid='<unknown>' is left out
    } else {
      s[k] = v.trim();
    }
  }
  if (groups.pci) {
    const bus = normalizeBusId(groups.pci);
    s.pciBusId = bus;
    const idx = ctx.gpuIndexByBusId?.get(bus);
    if (idx !== undefined) s.gpuIndex = idx;
  }
  if (rule.kind === 'oom_kill' && typeof s.pid === 'number' && ctx.inScope) {
    const v = ctx.inScope(s.pid);
    if (v !== undefined) s.inScope = v;
  }
  return s;
}

/** Matches one record's text; null when the line is not an event or not from the kernel or root. */
export function matchKernelLine(text: string, facility: number, ctx: MatchContext = {}): KmsgMatch | null {
  if (facility !== FACILITY_KERN && facility !== FACILITY_USER) return null;
  for (const rule of KMSG_RULES) {
    const m = rule.pattern.exec(text);
    if (!m) continue;
    const subject = subjectOf(rule, m.groups ?? {}, ctx);
    let severity = rule.severity;
    if (rule.kind === 'xid' && typeof subject.xid === 'number') {
      const c = classifyXid(subject.xid);
      severity = XID_SEVERITY[c.severity];
      subject.xidClass = c.severity;
    } else if (rule.kind === 'xid') {
      subject.xid = 79; // "fallen off the bus" without an Xid line is Xid 79's condition
      subject.xidClass = 'fatal';
    } else if (rule.kind === 'sxid') {
      severity = subject.fatality === 'Fatal' ? 'critical' : 'warning';
    }
    return { kind: rule.kind, severity, rule: rule.id, subject };
  }
  return null;
}
