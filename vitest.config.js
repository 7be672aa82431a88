import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  plugins: [
    {
      // Validators compiled at build time (scripts/build-validators.mjs) exist only in dist/: a source
      // file's `./x.validate.js` import resolves to the generated file beside its compiled module.
      name: 'generated-validators',
      resolveId(source, importer) {
        if (!importer || !source.startsWith('.') || !source.endsWith('.validate.js')) return null;
        const rel = path.relative(path.join(root, 'src'), path.resolve(path.dirname(importer), source));
        return rel.startsWith('..') ? null : path.join(root, 'dist', rel);
      },
    },
  ],
  test: {
    include: ['test/**/*.test.ts'],
    // Native addons and real child processes: isolate test files in forked processes.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 120_000,
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default'],
  },
});
