/**
 * Finds `overnight health`'s code: the one-file bundle that the build makes of ./health-oneshot.ts
 * (scripts/bundle-health.mjs; every build script and `npm install` run it), else the same module
 * unbundled, as tsc alone leaves it. Both hold the same code; the bundle starts ~65 ms sooner.
 * A health check must answer with the code that is built: a bundle older than this file (tsc ran
 * after it, and wrote every module again) is not used, and neither is one that fails to load (the
 * check then runs unbundled and says why on stderr, never on stdout where Slurm and NPD read).
 */
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { registerHealthCommand } from './health.js';

/** Where the bundle lies: beside dist/native.js, whose package-root lookup it keeps working. */
export const HEALTH_BUNDLE_URL = new URL('../health-oneshot.bundle.js', import.meta.url);
/** Written by the same tsc run as every module the bundle is made from. */
const BUILT_WITH = fileURLToPath(import.meta.url);

type HealthModule = { registerHealthCommand: typeof registerHealthCommand };

export async function loadHealthCommand(
  bundleUrl: URL = HEALTH_BUNDLE_URL,
  builtWith: string = BUILT_WITH,
  warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<typeof registerHealthCommand> {
  if (current(bundleUrl, builtWith)) {
    try {
      const { registerHealthCommand: register } = (await import(bundleUrl.href)) as Partial<HealthModule>;
      if (typeof register === 'function') return register;
      warn(`overnight: ${fileURLToPath(bundleUrl)} has no registerHealthCommand; running unbundled`);
    } catch (err) {
      const why = (err as Error).message.split('\n')[0]!.slice(0, 200);
      warn(`overnight: ${fileURLToPath(bundleUrl)} failed to load (${why}); running unbundled (npm run build:ts)`);
    }
  }
  return (await import('./health-oneshot.js')).registerHealthCommand;
}

/** The bundle is there, a file, and not older than the modules tsc wrote last. */
function current(bundleUrl: URL, builtWith: string): boolean {
  if (!existsSync(bundleUrl)) return false;
  try {
    const bundle = statSync(bundleUrl);
    return bundle.isFile() && bundle.mtimeMs >= statSync(builtWith).mtimeMs;
  } catch {
    return false;
  }
}
