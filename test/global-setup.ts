/**
 * Runs once before the suite: checks the TypeScript build exists and is whole (npm install makes it) and
 * builds the fake libnvidia-ml.so.1 variants for the GPU tests.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFakeNvml } from './helpers/fake-nvml.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export default function setup(): void {
  if (!existsSync(path.join(root, 'dist/cli/main.js'))) {
    throw new Error('dist/ is missing: run `npm install` (or `npm run build:ts`) before `npm test`');
  }
  // Sources import the validators compiled into dist/ by scripts/build-validators.mjs (see vitest.config.js).
  if (!existsSync(path.join(root, 'dist/mcp/tools/health-check-output.validate.js'))) {
    throw new Error('dist/ has no compiled validators: run `npm run build:ts` before `npm test`');
  }
  // `overnight health` runs from a bundle of dist/ (scripts/bundle-health.mjs): one older than the modules
  // it was made from would have the CLI tests check yesterday's code.
  const bundle = path.join(root, 'dist/health-oneshot.bundle.js');
  if (!existsSync(bundle)) throw new Error('dist/ has no health bundle: run `npm run build:ts` before `npm test`');
  const built = statSync(bundle).mtimeMs;
  const newer = jsFiles(path.join(root, 'dist')).find((f) => f !== bundle && statSync(f).mtimeMs > built);
  if (newer) throw new Error(`${newer} is newer than the health bundle: run \`npm run build:ts\` before \`npm test\``);
  buildFakeNvml();
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js'))
    .map((e) => path.join(e.parentPath, e.name));
}
