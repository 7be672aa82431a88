/**
 * Which processes the policy may act on. Default scope: processes of this user that descend from
 * the agent runner (the process that started the server), never the runner, the server, their
 * ancestors, PID 1, kernel threads, other users' processes, or a protected name.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { inCgroup, type CgroupSelector } from '../readers/cgroup-membership.js';
import { readProcess } from '../readers/processes.js';
import type { ProcessSample } from '../native.js';

/** Never acted on, whatever the configuration says. */
export const BUILTIN_PROTECTED = [
  'systemd',
  'init',
  'sshd',
  'sshd-session',
  'login',
  'sudo',
  'su',
  'dbus-daemon',
  'journald',
  'systemd-journal',
  'slurmd',
  'slurmstepd',
  'slurmctld',
  'munged',
  'dockerd',
  'containerd',
  'containerd-shim',
  'kubelet',
  'crond',
  'cron',
  'nvidia-persistenced',
  'nv-hostengine',
  'dcgm-exporter',
  'nvidia-fabricmanager',
  'Xorg',
  'agetty',
  'rsyslogd',
  'process_api',
];

export interface ScopeOptions {
  selfPid: number;
  /** The agent runner: its descendants are in scope (and are the ones watched). */
  scopeRoot: number;
  /** False when scopeRoot only says what to watch (1: everything) and the unit or user below is the scope. */
  rootIsScope?: boolean;
  /** policy.scopeUnit: only processes in this cgroup (or below it). */
  unit?: CgroupSelector;
  /** policy.scopeUser: only this user's processes (instead of the server's own user). */
  scopeUid?: number;
  /** Set when no scope could be determined: every process is refused, with this reason. */
  noScope?: string;
  uid: number;
  protectedNames: readonly string[];
  allow: readonly RegExp[];
  deny: readonly RegExp[];
  allowOutsideScope: boolean;
}

export type ScopeVerdict =
  { allowed: true; process: ProcessSample } | { allowed: false; reason: string; process?: ProcessSample };

function ppidOf(pid: number): number | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/** The chain of ancestors of pid (parent first), up to PID 1. */
export function ancestorsOf(pid: number): number[] {
  const out: number[] = [];
  let p: number | null = pid;
  for (let i = 0; i < 4096 && p !== null && p > 1; i++) {
    p = ppidOf(p);
    if (p !== null && p > 0) out.push(p);
  }
  return out;
}

/** The kernel keeps only this many characters of a process name in comm (TASK_COMM_LEN - 1). */
const COMM_LEN = 15;

/**
 * The names a process goes by: the basename of its executable (/proc/PID/exe; a replaced binary
 * reads "... (deleted)"), else the first word of its command line. comm alone is not enough: the
 * kernel cuts it to 15 characters ("nvidia-persistenced" is "nvidia-persiste") and a process can
 * rename itself (prctl PR_SET_NAME), so a protected daemon must match by any of them.
 */
export function executableNames(pid: number, cmdline: readonly string[] | undefined): string[] {
  const out: string[] = [];
  try {
    out.push(path.basename(readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '')));
  } catch {
    /* no exe link (exited, or not ours to read): the command line is the fallback */
  }
  const argv0 = cmdline?.[0]?.split(' ')[0];
  if (argv0) out.push(path.basename(argv0));
  return [...new Set(out)];
}

/** Which protected name the process matches (by exe basename, argv[0] or the truncated comm), or null. */
export function protectedName(
  p: Pick<ProcessSample, 'pid' | 'comm' | 'cmdline'>,
  names: readonly string[],
): string | null {
  const exe = executableNames(p.pid, p.cmdline);
  for (const name of names) {
    if (exe.includes(name)) return `executable ${name}`;
    // comm is the name cut to 15 characters: a longer protected name matches by its first 15.
    if (p.comm === name || (name.length > COMM_LEN && p.comm === name.slice(0, COMM_LEN))) return `name ${name}`;
  }
  return null;
}

export function checkProcessScope(pid: number, o: ScopeOptions): ScopeVerdict {
  if (!Number.isInteger(pid) || pid <= 0) return { allowed: false, reason: `pid ${pid} is not a process id` };
  if (pid === 1) return { allowed: false, reason: 'PID 1 (init) is never acted on' };
  if (pid === o.selfPid) return { allowed: false, reason: 'this is the overnight server itself' };
  if (o.noScope)
    return {
      allowed: false,
      reason: `no scope: ${o.noScope}; set policy.scopeRoot, policy.scopeUnit or policy.scopeUser`,
    };
  if (pid === o.scopeRoot) return { allowed: false, reason: `pid ${pid} is the agent runner itself (the scope root)` };
  if (ancestorsOf(o.selfPid).includes(pid))
    return { allowed: false, reason: `pid ${pid} is an ancestor of the overnight server` };
  let p: ProcessSample;
  try {
    p = readProcess(pid, { cmdline: true, io: false, wchan: false });
  } catch {
    return { allowed: false, reason: `pid ${pid} does not exist` };
  }
  if (p.kernelThread) return { allowed: false, reason: `pid ${pid} (${p.comm}) is a kernel thread`, process: p };
  // root acting on an explicitly named unit acts on that unit's processes, whoever runs them.
  const wantUid = o.scopeUid ?? (o.uid === 0 && o.unit ? undefined : o.uid);
  if (wantUid !== undefined && p.uid !== wantUid) {
    return {
      allowed: false,
      reason:
        `pid ${pid} (${p.comm}) belongs to uid ${p.uid}, not to ` +
        `${o.scopeUid !== undefined ? 'policy.scopeUser' : 'this user'} (uid ${wantUid})`,
      process: p,
    };
  }
  const protectedAs = protectedName(p, [...BUILTIN_PROTECTED, ...o.protectedNames]);
  if (protectedAs)
    return {
      allowed: false,
      reason: `pid ${pid} (${p.comm}) is on the protected-names list (${protectedAs})`,
      process: p,
    };
  const line = `${p.comm} ${(p.cmdline ?? []).join(' ')}`;
  const denied = o.deny.find((re) => re.test(line));
  if (denied)
    return { allowed: false, reason: `pid ${pid} (${p.comm}) matches the deny pattern ${denied}`, process: p };
  if (o.allow.length && !o.allow.some((re) => re.test(line)))
    return { allowed: false, reason: `pid ${pid} (${p.comm}) matches no allow pattern`, process: p };
  if (o.rootIsScope !== false && !o.allowOutsideScope && !ancestorsOf(pid).includes(o.scopeRoot)) {
    return {
      allowed: false,
      reason: `pid ${pid} (${p.comm}) does not descend from the agent runner (pid ${o.scopeRoot})`,
      process: p,
    };
  }
  if (o.unit && !inCgroup(pid, o.unit)) {
    const name = 'unit' in o.unit ? o.unit.unit : o.unit.path;
    return { allowed: false, reason: `pid ${pid} (${p.comm}) is not in policy.scopeUnit ${name}`, process: p };
  }
  return { allowed: true, process: p };
}
