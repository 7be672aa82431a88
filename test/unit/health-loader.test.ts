/** How `overnight health` finds its code: the build's bundle, else the unbundled module (src/cli/health-loader.ts). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadHealthCommand } from '../../src/cli/health-loader.js';
import { registerHealthCommand } from '../../src/cli/health.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ovn-health-loader-'));

describe('loadHealthCommand', () => {
  it('takes the bundle when it is there', async () => {
    const bundle = path.join(dir, 'present.mjs');
    writeFileSync(bundle, 'export function registerHealthCommand() { return "from the bundle"; }\n');
    const register = await loadHealthCommand(pathToFileURL(bundle));
    expect((register as unknown as () => string)()).toBe('from the bundle');
  });

  it('falls back to the unbundled module when no bundle was built (tsc alone)', async () => {
    const register = await loadHealthCommand(pathToFileURL(path.join(dir, 'absent.mjs')));
    expect(register).toBe(registerHealthCommand);
  });

  it('does not hide a bundle that fails to load behind the fallback', async () => {
    const bundle = path.join(dir, 'broken.mjs');
    writeFileSync(bundle, "import 'overnight-no-such-package';\nexport function registerHealthCommand() {}\n");
    await expect(loadHealthCommand(pathToFileURL(bundle))).rejects.toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
  });
});
