/**
 * The one loader of the native addon. node-gyp-build finds build/Release/*.node (node-gyp or
 * cmake-js) or a matching prebuild under prebuilds/ (prebuildify).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { NativeBinding } from './native-types.js';

export type * from './native-types.js';

const require = createRequire(import.meta.url);
/** The package root (one level above dist/ or src/). */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let cached: NativeBinding | undefined;

/** Error thrown when the compiled addon is missing or cannot load. */
export class NativeLoadError extends Error {
  readonly code = 'ERR_OVERNIGHT_NATIVE_MISSING';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NativeLoadError';
  }
}

/** Loads the addon once. Throws NativeLoadError saying how to build it when it is missing. */
export function loadNative(): NativeBinding {
  if (cached) return cached;
  const loader = require('node-gyp-build') as (dir: string) => NativeBinding;
  try {
    cached = loader(packageRoot);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new NativeLoadError(
      `overnight-ops: the native addon is not built (${reason.split('\n')[0]}). ` +
        `Build it with \`npm run build:native\` (node-gyp; needs python3, make and a C++17 compiler) ` +
        `or \`npm run build:cmake\` (cmake-js), from ${packageRoot}.`,
      { cause: err },
    );
  }
  return cached;
}
