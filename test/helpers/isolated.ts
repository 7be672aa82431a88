/** Runs a snippet of ESM in a fresh Node process (for loader state that is per process). */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `body` runs in an async function with `dist` imported as `d`; it returns a JSON-able value. */
/* eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters --
   T is the caller's declared shape of the JSON the snippet returns */
export function runIsolated<T>(body: string, env: Record<string, string | undefined> = {}): T {
  const script =
    `const d = await import(${JSON.stringify(path.join(root, 'dist/index.js'))});\n` +
    `const out = await (async () => { ${body} })();\nprocess.stdout.write(JSON.stringify(out));\nprocess.exit(0);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  return JSON.parse(out) as T;
}
