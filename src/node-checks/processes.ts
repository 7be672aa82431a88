/**
 * Process-table checks over one scan: daemons that must run (NHC check_ps_service; GPUd's
 * fabric-manager and persistenced checks), users who should not have processes here (NHC
 * check_ps_unauth_users, report only: nothing is signalled), and zombies (GPUd's os component).
 */
import type { ProcessSample } from '../native-types.js';
import type { NodeFinding } from './types.js';

export interface ServiceSpec {
  name: string;
  /** Regex on the command line (argv joined by spaces); default: comm or argv[0]'s basename equals name. */
  pattern?: string;
}

export interface ServiceReport {
  name: string;
  running: boolean;
  pids: number[];
}

/** comm is cut at 15 characters by the kernel, so a long name is compared by argv[0] too. */
function matches(p: ProcessSample, s: ServiceSpec, re: RegExp | null): boolean {
  if (p.kernelThread) return false;
  const argv0 = p.cmdline?.[0] ? p.cmdline[0].split('/').pop()! : '';
  if (re) return re.test((p.cmdline ?? []).join(' ') || p.comm);
  return p.comm === s.name || argv0 === s.name || (s.name.length > 15 && p.comm === s.name.slice(0, 15));
}

export function judgeServices(
  table: ProcessSample[],
  specs: ServiceSpec[],
): { services: ServiceReport[]; findings: NodeFinding[] } {
  const services: ServiceReport[] = [];
  const findings: NodeFinding[] = [];
  for (const s of specs) {
    const re = s.pattern ? new RegExp(s.pattern) : null;
    const pids = table.filter((p) => p.state !== 'Z' && matches(p, s, re)).map((p) => p.pid);
    services.push({ name: s.name, running: pids.length > 0, pids: pids.slice(0, 16) });
    if (!pids.length)
      findings.push({
        check: 'service',
        severity: 'critical',
        subject: s.name,
        message: `${s.name} is not running`,
        action: `start it (systemctl start ${s.name}) and look at why it stopped (journalctl -u ${s.name})`,
      });
  }
  return { services, findings };
}

export interface UnauthorizedUser {
  user: string;
  uid: number;
  processes: number;
  sample_pids: number[];
}

/** Users (uid >= minUid, not root, not allowed) with processes; `names` maps uid to user name. */
export function unauthorizedUsers(
  table: ProcessSample[],
  opts: { allowedUsers: string[]; minUid: number },
  names: Map<number, string>,
): { users: UnauthorizedUser[]; findings: NodeFinding[] } {
  const allowed = new Set(opts.allowedUsers);
  const byUid = new Map<number, number[]>();
  for (const p of table) {
    const uid = p.uid;
    if (uid === null || uid === 0 || uid < opts.minUid || p.kernelThread) continue;
    const name = names.get(uid) ?? String(uid);
    if (allowed.has(name) || allowed.has(String(uid))) continue;
    const list = byUid.get(uid) ?? [];
    list.push(p.pid);
    byUid.set(uid, list);
  }
  const users = [...byUid].map(([uid, pids]) => ({
    user: names.get(uid) ?? String(uid),
    uid,
    processes: pids.length,
    sample_pids: pids.slice(0, 8),
  }));
  const findings: NodeFinding[] = users.map((u) => ({
    check: 'unauthorized_user',
    severity: 'degraded',
    subject: u.user,
    message: `user ${u.user} (uid ${u.uid}) has ${u.processes} process(es) here and is not allowed`,
    action:
      'reported only: nothing was signalled; end them by hand or add the user to ' +
      'nodeChecks.unauthorizedUsers.allowedUsers',
  }));
  return { users, findings };
}

export interface ZombieReport {
  count: number;
  limit: number;
  /** Parents holding the most zombies: they do not reap their children. */
  top_parents: { ppid: number; zombies: number; comm: string | null }[];
}

export function judgeZombies(
  table: ProcessSample[],
  limit: number,
): { zombies: ZombieReport; findings: NodeFinding[] } {
  const byParent = new Map<number, number>();
  let count = 0;
  for (const p of table) {
    if (p.state !== 'Z') continue;
    count++;
    byParent.set(p.ppid, (byParent.get(p.ppid) ?? 0) + 1);
  }
  const comm = new Map(table.map((p) => [p.pid, p.comm]));
  const top = [...byParent]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([ppid, zombies]) => ({ ppid, zombies, comm: comm.get(ppid) ?? null }));
  const findings: NodeFinding[] =
    count > limit
      ? [
          {
            check: 'zombies',
            severity: 'degraded',
            subject: 'zombies',
            message:
              `${count} zombie processes (more than ${limit})` +
              (top[0] ? `; pid ${top[0].ppid} (${top[0].comm ?? '?'}) holds ${top[0].zombies}` : ''),
            action: 'the parent does not reap its children: restart it (its zombies go to init and are reaped)',
          },
        ]
      : [];
  return { zombies: { count, limit, top_parents: top }, findings };
}

/** uid -> name from /etc/passwd text. */
export function parsePasswd(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && /^\d+$/.test(f[2]!)) out.set(Number(f[2]), f[0]!);
  }
  return out;
}

/** The pids of `root` and its descendants in `table`. */
export function treeOf(table: ProcessSample[], root: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of table) {
    const l = children.get(p.ppid) ?? [];
    l.push(p.pid);
    children.set(p.ppid, l);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length && out.length < 10_000) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}
