/**
 * Which cgroup a process belongs to, read from /proc/<pid>/cgroup (cgroup v1 and v2 alike). A scope
 * or a watched cgroup is named either as a cgroup path ("/system.slice/agent.service") or as a
 * systemd unit ("agent.service"); systemd puts a unit's processes under a path segment of that name,
 * so a unit name matches without asking systemd (which a container or a test machine may not run).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** A cgroup named by the operator: an absolute cgroup path, or a unit name matched as a path segment. */
export type CgroupSelector = { path: string } | { unit: string };

const UNIT_SUFFIX = /\.(service|scope|slice)$/;

/** Parses the configured text. A leading "/" is a path; a name ending in .service/.scope/.slice is a unit. */
export function parseCgroupSelector(text: string, field: string): CgroupSelector {
  const t = text.trim();
  if (t.startsWith('/')) return { path: t.length > 1 ? t.replace(/\/+$/, '') : '/' };
  if (UNIT_SUFFIX.test(t) && !t.includes('/')) return { unit: t };
  const shown = t.length > 80 ? `${t.slice(0, 77)}...` : t;
  throw new Error(
    `${field}: got "${shown}"; expected a cgroup path starting with "/" (e.g. /system.slice/agent.service) or a ` +
      `systemd unit name ending in .service, .scope or .slice`,
  );
}

/** The cgroup paths of a process, one per hierarchy line ("0::/user.slice/..." for v2). Null if it is gone. */
export function cgroupPathsOf(pid: number): string[] | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return null;
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    // hierarchy-id:controllers:path; the path itself may contain ':'
    const a = line.indexOf(':');
    const b = a < 0 ? -1 : line.indexOf(':', a + 1);
    if (b > 0) out.push(line.slice(b + 1));
  }
  return out;
}

function pathMatches(cgPath: string, sel: CgroupSelector): boolean {
  if ('unit' in sel) return cgPath.split('/').includes(sel.unit);
  return sel.path === '/' || cgPath === sel.path || cgPath.startsWith(`${sel.path}/`);
}

/** Whether a process is inside the cgroup (or one below it) in any hierarchy. */
export function inCgroup(pid: number, sel: CgroupSelector): boolean {
  return (cgroupPathsOf(pid) ?? []).some((p) => pathMatches(p, sel));
}

/**
 * A live process inside the cgroup, preferring one that sits in the cgroup itself rather than in a
 * child of it (its memory counters are the cgroup's own), lowest pid first; null when it is empty.
 * The native host reader reads a cgroup through a member process, so this names the cgroup to it.
 */
export function memberOf(sel: CgroupSelector): number | null {
  let below: number | null = null;
  const pids = readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((x, y) => x - y);
  for (const pid of pids) {
    const paths = cgroupPathsOf(pid);
    if (!paths) continue;
    const hits = paths.filter((p) => pathMatches(p, sel));
    if (!hits.length) continue;
    const exact = hits.some((p) => ('unit' in sel ? p.endsWith(`/${sel.unit}`) : p === sel.path));
    if (exact) return pid;
    below ??= pid;
  }
  return below;
}
