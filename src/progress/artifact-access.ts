/**
 * Which files trackProgress may read as artifacts, and reading them within a byte budget.
 * An artifact is hashed (and, with storeArtifacts, copied into the state directory), so an agent
 * that names /etc/shadow or /proc/self/environ would otherwise get the server to copy a secret
 * into its store. Artifacts must lie under progress.artifactRoots (default: the server's working
 * directory and the task's registered directory), judged on the path the opened file really has
 * (/proc/self/fd), so a symlink out of a root is refused too; /proc, /sys and /dev never are.
 */
import { closeSync, constants, fstatSync, openSync, readlinkSync, realpathSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { OvernightConfig } from '../config/schema.js';

/** Kernel and device trees: never artifacts, whatever the roots say. */
const NEVER = ['/proc', '/sys', '/dev'];

/** Bytes a single trackProgress call may still hash (progress.maxHashBytesPerCall). */
export interface HashBudget {
  limit: number;
  left: number;
}

export const newBudget = (limit: number): HashBudget => ({ limit, left: limit });

const under = (p: string, root: string) => p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`);

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** The roots an artifact of `taskId` may lie under, as real paths. */
export function artifactRoots(config: Pick<OvernightConfig, 'progress' | 'tasks'>, taskId: string): string[] {
  const configured = config.progress.artifactRoots;
  const taskDir = config.tasks.find((t) => t.id === taskId)?.cwd;
  const roots = configured ?? [process.cwd(), ...(taskDir ? [taskDir] : [])];
  return [...new Set(roots.map(real))];
}

/** Why `realPath` may not be read as an artifact, or null when it may. */
export function refusalOf(realPath: string, roots: string[]): string | null {
  const bad = NEVER.find((n) => under(realPath, n));
  if (bad) return `${realPath} is under ${bad}, which is never an artifact`;
  if (!roots.some((r) => under(realPath, r)))
    return `${realPath} is outside progress.artifactRoots [${roots.join(', ')}]`;
  return null;
}

export type Opened =
  { fd: number; realPath: string; st: Stats } | { missing: true } | { refused: string } | { error: string };

/**
 * Opens an artifact for reading if it is allowed: checked on its real path before opening (so no
 * device or FIFO under /dev is even opened) and again on the opened fd (so a symlink swapped in
 * between cannot lead out of the roots). Non-blocking, no controlling tty. The caller closes fd.
 */
export function openArtifact(p: string, roots: string[]): Opened {
  let pre: string;
  try {
    pre = realpathSync(p);
  } catch (err) {
    const code = (err as { code?: string }).code;
    // Unresolvable (missing, a name too long, a loop, no permission): still refuse a path that names a place
    // outside the roots, so the answer does not depend on whether the file could be there (fail closed).
    const why = refusalOf(path.resolve(p), roots);
    if (why) return { refused: why };
    return code === 'ENOENT' || code === 'ENOTDIR' ? { missing: true } : { error: code ?? String(err) };
  }
  const before = refusalOf(pre, roots);
  if (before) return { refused: before };
  let fd: number;
  try {
    fd = openSync(p, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const code = (err as { code?: string }).code;
    return code === 'ENOENT' ? { missing: true } : { error: code ?? String(err) };
  }
  const realPath = readlinkSync(`/proc/self/fd/${fd}`);
  const after = refusalOf(realPath, roots);
  if (after) {
    closeSync(fd);
    return { refused: after };
  }
  return { fd, realPath, st: fstatSync(fd) };
}
