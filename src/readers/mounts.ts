/**
 * Which filesystem a path lives on, from /proc/self/mountinfo (proc(5)): its mount point, source
 * device and type, as node_exporter labels them. Runs on the caller's thread; one read of a small
 * procfs file per call, so a scrape sees mounts made since the last one.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';

export interface MountEntry {
  /** "major:minor" of the filesystem (st_dev) */
  devId: string;
  mountPoint: string;
  fstype: string;
  /** The mount source ("/dev/vda", "tmpfs", "overlay"): node_exporter's `device` label. */
  device: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Parses mountinfo text (exported for tests with a fixed table). */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const head = line.slice(0, sep).split(' ');
    const tail = line.slice(sep + 3).split(' ');
    if (head.length < 6 || tail.length < 2) continue;
    out.push({ devId: head[2]!, mountPoint: unescape(head[4]!), fstype: tail[0]!, device: unescape(tail[1]!) });
  }
  return out;
}

/** st_dev as "major:minor" (glibc's gnu_dev_major/minor encoding). */
function devId(dev: number): string {
  const d = BigInt(dev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

const under = (path: string, mountPoint: string) =>
  mountPoint === '/' || path === mountPoint || path.startsWith(`${mountPoint}/`);

/**
 * The mount a path is on: the deepest mount point above its real path, the last mounted winning a
 * tie (as the kernel's lookup does), preferring mounts of the path's own device (st_dev) so that a
 * filesystem mounted twice is named where the path really is. Where no mount carries st_dev (btrfs
 * subvolumes report an anonymous device), the deepest mount point alone decides, as `findmnt
 * --target` does. null when the path does not exist.
 */
export function mountOf(path: string, mounts: MountEntry[]): MountEntry | null {
  let real: string;
  let id: string;
  try {
    real = realpathSync(path);
    id = devId(statSync(real).dev);
  } catch {
    return null;
  }
  const deepest = (candidates: MountEntry[]) => {
    let best: MountEntry | null = null;
    for (const m of candidates)
      if (under(real, m.mountPoint) && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
    return best;
  };
  return deepest(mounts.filter((m) => m.devId === id)) ?? deepest(mounts);
}

/** The current mount table of this process's mount namespace. */
export function readMounts(): MountEntry[] {
  return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'));
}
