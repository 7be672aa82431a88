/** How `overnight health` finds its code: the build's bundle, else the unbundled module (src/cli/health-loader.ts). */
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadHealthCommand } from '../../src/cli/health-loader.js';
import { registerHealthCommand } from '../../src/cli/health.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ovn-health-loader-'));
/** Stands for the modules tsc wrote: the bundle must not be older than it. */
const built = path.join(dir, 'health-loader.js');
writeFileSync(built, '');
utimesSync(built, 1_000_000, 1_000_000);

function bundle(name: string, text: string, mtimeS = 2_000_000): URL {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  utimesSync(file, mtimeS, mtimeS);
  return pathToFileURL(file);
}

const FAKE = 'export function registerHealthCommand() { return "from the bundle"; }\n';

describe('loadHealthCommand', () => {
  it('takes the bundle when it is there and current', async () => {
    const warnings: string[] = [];
    const register = await loadHealthCommand(bundle('present.mjs', FAKE), built, (l) => warnings.push(l));
    expect((register as unknown as () => string)()).toBe('from the bundle');
    expect(warnings).toEqual([]);
  });

  it('falls back to the unbundled module when no bundle was built', async () => {
    const register = await loadHealthCommand(pathToFileURL(path.join(dir, 'absent.mjs')), built);
    expect(register).toBe(registerHealthCommand);
  });

  it('does not run a bundle older than the modules tsc wrote (plain tsc after a build)', async () => {
    const register = await loadHealthCommand(bundle('stale.mjs', FAKE, 500_000), built);
    expect(register).toBe(registerHealthCommand);
  });

  it('runs unbundled, and says why on stderr, when the bundle cannot load', async () => {
    const dirAsBundle = path.join(dir, 'a-directory.mjs');
    mkdirSync(dirAsBundle);
    for (const url of [
      bundle('truncated.mjs', 'export function registerHealthCommand() { return "'),
      bundle('empty.mjs', ''),
      bundle('missing-import.mjs', "import 'overnight-no-such-package';\n" + FAKE),
      pathToFileURL(dirAsBundle),
    ]) {
      const warnings: string[] = [];
      const register = await loadHealthCommand(url, built, (l) => warnings.push(l));
      expect(register, url.href).toBe(registerHealthCommand);
      if (!url.href.endsWith('a-directory.mjs')) expect(warnings.join('\n'), url.href).toMatch(/running unbundled/);
    }
  });
});
