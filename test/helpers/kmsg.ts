/** Writing real lines into the kernel log (root only), each tagged so parallel runs cannot mix. */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, writeFileSync } from 'node:fs';

/** True where this process may write /dev/kmsg (root). */
export function canWriteKmsg(): boolean {
  try {
    accessSync('/dev/kmsg', constants.W_OK | constants.R_OK);
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

/** A marker unique to this test run, safe inside comm and device names. */
export function uniqueMarker(prefix = 'ovn'): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

/**
 * Writes one line at level `level` (facility user, as the kernel gives root's lines). Each write
 * opens the device anew: printk_devkmsg=ratelimit allows 10 lines per 5 s per open file.
 */
export function injectKmsg(line: string, level = 3): void {
  writeFileSync('/dev/kmsg', `<${level}>${line}\n`);
}

/** Polls `cond` every 50 ms until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  cond: () => T | undefined | null | false,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
