import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');

describe('native loader', () => {
  it('says how to build the addon when the binary is missing', () => {
    // A copy of the package without build/ or prebuilds/.
    const dir = mkdtempSync(path.join(tmpdir(), 'ovn-nobuild-'));
    try {
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'overnight-ops', type: 'module' }));
      mkdirSync(path.join(dir, 'dist'));
      cpSync(path.join(root, 'dist/native.js'), path.join(dir, 'dist/native.js'));
      cpSync(path.join(root, 'dist/native-types.js'), path.join(dir, 'dist/native-types.js'));
      symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
      const script =
        `import('./dist/native.js').then(m => { try { m.loadNative(); console.log('loaded'); } ` +
        `catch (e) { console.log(e.code + ' ' + e.message); } })`;
      const out = execFileSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8' });
      expect(out).toContain('ERR_OVERNIGHT_NATIVE_MISSING');
      expect(out).toContain('npm run build:native');
      expect(out).toContain('npm run build:cmake');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
