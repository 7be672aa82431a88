/**
 * Runs once before the suite: checks the addon and the TypeScript build exist (npm install makes
 * both), and builds the fake libnvidia-ml.so.1 for the GPU tests.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export default async function setup(): Promise<void> {
  if (!existsSync(path.join(root, 'dist/cli/main.js'))) {
    throw new Error('dist/ is missing: run `npm install` (or `npm run build:ts`) before `npm test`');
  }
  const { buildFakeNvml } = await import('./helpers/fake-nvml.js').catch(() => ({ buildFakeNvml: undefined }));
  if (buildFakeNvml) process.env.OVERNIGHT_FAKE_NVML_LIB = buildFakeNvml();
}
