/**
 * Process settings for the long-lived daemon. `overnight monitor` does a little work each second
 * for a whole night, so its resident memory matters more than its peak speed. Measured on these
 * machines (VmRSS and /proc/<pid>/smaps, with and without each setting, the monitors side by side):
 * - `--max-opt=2`: no top-tier (TurboFan) compilation. Once TurboFan has compiled anything its code
 *   pages in the node binary stay resident: 3.7 MB of the monitor's RSS. The monitor's CPU did not
 *   change measurably.
 * - `--semi-space-growth-factor=1`: the young generation stays at its initial size. A full check of
 *   a node with 5,000 processes allocates enough each cycle that V8 grew it to 16–32 MB.
 * - at most one malloc arena: the scans' worker threads each got a glibc arena that kept about 20 MB
 *   of freed memory resident at 5,000 processes.
 * `serve` keeps V8's defaults (its throughput under HTTP load is measured with them). The V8 flags
 * are set before any other module is evaluated (code already optimised would keep its pages); an
 * operator who starts node with their own --max-opt keeps their choice.
 */
import { setFlagsFromString } from 'node:v8';
import { loadNative } from '../native.js';
import { subcommandWord } from './subcommand-word.js';

export const DAEMON_V8_FLAGS = ['--max-opt=2', '--semi-space-growth-factor=1'] as const;
export const DAEMON_MALLOC_ARENAS = 1;

let applied: string[] = [];

/** Sets the daemon's V8 flags when the command line runs `monitor`; returns the flags it set. */
export function applyDaemonV8Flags(
  argv: readonly string[],
  execArgv: readonly string[] = process.execArgv,
  setFlag: (flag: string) => void = setFlagsFromString,
): string[] {
  if (subcommandWord(argv) !== 'monitor') return [];
  const own = (flag: string) => execArgv.some((a) => a.startsWith(flag.slice(0, flag.indexOf('='))));
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
