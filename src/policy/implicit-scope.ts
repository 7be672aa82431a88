/**
 * The implicit scope: "the processes the agent runner started" is the parent of this process only
 * when that parent can be an agent runner. Under systemd, in a container, after a double fork or
 * setsid, the parent is PID 1 or a service manager (or the subreaper that adopted us), and its
 * descendants are every process of the user (for root: of the node). Then there is no implicit scope,
 * and the operator names one (policy.scopeRoot, policy.scopeUnit or policy.scopeUser).
 */
import { readFileSync } from 'node:fs';
import { BUILTIN_PROTECTED } from './process-scope.js';

/** Parents that supervise rather than run agents: service managers, container inits, process supervisors. */
const SUPERVISORS = new Set([
  ...BUILTIN_PROTECTED,
  'tini',
  'dumb-init',
  'docker-init',
  'catatonit',
  'conmon',
  'containerd-shim-runc-v2',
  's6-svscan',
  's6-supervise',
  'runsv',
  'runsvdir',
  'supervisord',
  'atd',
  'tmux: server',
  'screen',
  'SCREEN',
]);

export type ImplicitScope = { root: number } | { root: null; reason: string };

/** pid, ppid, session id and comm of a process (from /proc/<pid>/stat), or null when it is gone. */
function statOf(pid: number): { ppid: number; sid: number; comm: string } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { comm: s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')), ppid: Number(f[1]), sid: Number(f[3]) };
  } catch {
    return null;
  }
}

/** Decides whether this process's parent may serve as the scope root. */
export function implicitScope(pid = process.pid): ImplicitScope {
  const self = statOf(pid);
  if (!self) return { root: null, reason: `cannot read /proc/${pid}/stat` };
  const ppid = self.ppid;
  // 0: the parent lives outside our PID namespace (we are a container's init).
  if (ppid <= 1)
    return {
      root: null,
      reason:
        `the parent process is ${ppid === 1 ? 'PID 1' : 'outside this PID namespace'} (systemd, a ` +
        `container, or a double fork), whose descendants are every process`,
    };
  if (self.sid === pid)
    return {
      root: null,
      reason:
        `this process is a session leader (started by setsid or a service manager), so its parent (pid ` +
        `${ppid}) is not an agent runner`,
    };
  const parent = statOf(ppid);
  if (!parent) return { root: null, reason: `the parent process (pid ${ppid}) is gone` };
  if (SUPERVISORS.has(parent.comm))
    return {
      root: null,
      reason:
        `the parent process is ${parent.comm} (pid ${ppid}), a service manager or supervisor, not an ` + `agent runner`,
    };
  // A child inherits its parent's session at fork. A different session here, without having called
  // setsid ourselves, means the process that forked us is gone and a subreaper adopted us.
  if (parent.sid !== self.sid)
    return {
      root: null,
      reason:
        `the parent process ${parent.comm} (pid ${ppid}) adopted this process as a subreaper (it is in ` +
        `session ${parent.sid}, this process in ${self.sid})`,
    };
  return { root: ppid };
}

/** The one-line error for recovery with no scope; names the three settings. */
export function noScopeMessage(reason: string): string {
  return (
    `monitor.recover is "on" but there is no implicit scope: ${reason}. Name the processes recovery may act ` +
    `on: policy.scopeRoot (the agent runner's pid), policy.scopeUnit (its systemd unit or cgroup path, e.g. ` +
    `"agent.service") or policy.scopeUser (its user)`
  );
}
