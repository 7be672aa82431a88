/**
 * Finds `overnight health`'s code: the one-file bundle that the build makes of ./health-oneshot.ts
 * (scripts/bundle-health.mjs; every build script and `npm install` run it), else the same module
 * unbundled, as tsc alone leaves it. Both hold the same code; the bundle starts ~100 ms sooner.
 */
import { existsSync } from 'node:fs';
import type { registerHealthCommand } from './health.js';

/** Where the bundle lies: beside dist/native.js, whose package-root lookup it keeps working. */
export const HEALTH_BUNDLE_URL = new URL('../health-oneshot.bundle.js', import.meta.url);

type HealthModule = { registerHealthCommand: typeof registerHealthCommand };

export async function loadHealthCommand(bundleUrl: URL = HEALTH_BUNDLE_URL): Promise<typeof registerHealthCommand> {
  // Only a missing bundle falls back; a bundle that fails to load is a build fault and says so.
  if (existsSync(bundleUrl)) return ((await import(bundleUrl.href)) as HealthModule).registerHealthCommand;
  return (await import('./health-oneshot.js')).registerHealthCommand;
}
