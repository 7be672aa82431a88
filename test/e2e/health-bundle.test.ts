/**
 * `overnight health` runs from one bundled file (scripts/bundle-health.mjs): Slurm and NPD start it
 * every few seconds to minutes on every node, and Node 20's module loader pays per module.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { execNode } from '../helpers/children.js';
import { root } from '../helpers/isolated.js';
import { CLI, writeConfig } from '../helpers/mcp.js';

/** A module-load hook that prints every module URL Node loads, so the test sees what the command loads. */
function loadTracer(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ovn-load-trace-'));
  const hook = path.join(dir, 'hook.mjs');
  writeFileSync(
    hook,
    `export async function load(url, context, next) {
  process.stderr.write('LOADED ' + url + '\\n');
  return next(url, context);
}\n`,
  );
  const register = path.join(dir, 'register.mjs');
  writeFileSync(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`,
  );
  return register;
}

describe('overnight health: one bundled file', () => {
  it('loads the bundle, not zod or our modules one by one, and answers', async () => {
    const { file } = writeConfig();
    const r = await execNode(['--import', loadTracer(), CLI, 'health', '--json', '--exit-zero', '--config', file]);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { status: string }).status).toMatch(/^(healthy|degraded|critical)$/);
    const loaded = [...r.stderr.matchAll(/^LOADED (\S+)$/gm)].map((m) => m[1]);
    const dist = pathToFileURL(path.join(root, 'dist')).href + '/';
    expect(loaded).toContain(`${dist}health-oneshot.bundle.js`);
    expect(loaded.filter((u) => u.includes('/node_modules/zod/'))).toEqual([]);
    // bin's word check, main, its closed-pipe and errors helpers, the loader, the bundle: not the ~65
    // modules of the health path.
    expect(loaded.filter((u) => u.startsWith(dist)).length).toBeLessThanOrEqual(8);
  }, 60_000);

  it('a configuration error reads the same through the bundled zod', async () => {
    const { file } = writeConfig({ watch: { intervalSec: 'soon' } });
    const r = await execNode([CLI, 'health', '--nhc', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/watch\.intervalSec/);
    expect(r.stdout).toContain('"soon"');
  }, 60_000);
});
