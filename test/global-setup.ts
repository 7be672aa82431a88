/**
 * Runs once before the suite: checks the TypeScript build exists (npm install makes it) and
 * builds the fake libnvidia-ml.so.1 variants for the GPU tests.
 */
import { existsSync } from 'node:fs';
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
  buildFakeNvml();
}
