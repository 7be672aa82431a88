/**
 * Process settings for the long-lived daemon. `overnight monitor` runs all night beside the work it
 * watches, so its resident memory must not grow with the node's activity. Measured on these machines
 * (VmRSS and /proc/<pid>/smaps, the monitors side by side):
 * - `--semi-space-growth-factor=1`: the young generation stays at its initial size. A full check of
 *   a node with 5,000 processes allocates enough each cycle that V8 grew it to 16–32 MB.
 * - at most one malloc arena: the scans' worker threads each got a glibc arena that kept about 20 MB
 *   of freed memory resident at 5,000 processes.
 * - start-up pages given back, once, after the first cycle: the pages of read-only file mappings (the
 *   node binary, libraries, addons) leave this process's page tables (native/proc/file_pages.h):
 *   47 MB of file-backed RSS fell to a working set of 17–25 MB. Nothing is freed at once: the pages
 *   stay in the page cache (charged to whoever read them first) and what the monitor touches again
 *   is mapped back by a minor fault; what it does not touch again becomes reclaimable. Once only: a
 *   second release a minute later kept 1–2.5 MB out for ~15 MB of pages faulted back, and each
 *   release is a moment where a breakpoint being inserted could be lost (the check and the madvise
 *   are not atomic).
 * Not used: `--max-opt=2` (no top-tier compiler) kept 3.7 MB of the node binary's code pages out of
 * the RSS, but made the leak detector's slopes about 13 times slower: at 2,000 processes a watch pass
 * outlasted its interval. `serve` keeps V8's defaults (its throughput under HTTP load is measured
 * with them). The flags are set before any other module is evaluated; an operator who starts node
 * with one of them keeps their own value.
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { loadNative } from '../native.js';
import { subcommandWord } from './subcommand-word.js';

export const DAEMON_V8_FLAGS = ['--semi-space-growth-factor=1'] as const;
export const DAEMON_MALLOC_ARENAS = 1;

let applied: string[] = [];

/** Sets the daemon's V8 flags when the command line runs `monitor`; returns the flags it set. */
export function applyDaemonV8Flags(
  argv: readonly string[],
  execArgv: readonly string[] = process.execArgv,
  setFlag: (flag: string) => void = setFlagsFromString,
): string[] {
  if (subcommandWord(argv) !== 'monitor') return [];
  // V8 reads --a-b and --a_b alike.
  const name = (arg: string) => arg.slice(0, arg.includes('=') ? arg.indexOf('=') : undefined).replaceAll('_', '-');
  const own = (flag: string) => execArgv.some((a) => name(a) === name(flag));
  applied = DAEMON_V8_FLAGS.filter((f) => !own(f));
  for (const flag of applied) setFlag(flag);
  return applied;
}

/**
 * Caps malloc's arenas; called at the daemon's start, before its sampler and scan threads exist.
 * Returns what the daemon runs with, for its start line.
 */
export function tuneDaemonProcess(): { v8_flags: string[]; malloc_arenas: number | null } {
  const capped = loadNative().limitMallocArenas(DAEMON_MALLOC_ARENAS);
  return { v8_flags: [...applied], malloc_arenas: capped ? DAEMON_MALLOC_ARENAS : null };
}

/** What the release did, for the monitor's log: VmRSS read just before and just after it. */
export interface StartupPageRelease {
  areas: number;
  released_kb: number;
  rss_before_kb: number;
  rss_after_kb: number;
}

/** VmRSS of this process in kB (null where /proc/self/status has none). */
function residentKb(): number | null {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : null;
}

/**
 * Gives the start-up pages back, once (the daemon calls it after its first cycle). Resolves to what
 * it did, or null where it could not (no smaps, an addon without the call): the pages then stay.
 */
export async function releaseStartupPages(
  release: () => Promise<{ areas: number; releasedKb: number }> = () => loadNative().releaseFilePages(),
): Promise<StartupPageRelease | null> {
  try {
    const before = residentKb();
    const r = await release();
    const after = residentKb();
    if (before === null || after === null) return null;
    return { areas: r.areas, released_kb: r.releasedKb, rss_before_kb: before, rss_after_kb: after };
  } catch {
    return null;
  }
}
