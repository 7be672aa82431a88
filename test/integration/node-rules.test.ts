import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { root } from '../helpers/isolated.js';

const dir = mkdtempSync(path.join(tmpdir(), 'overnight-promtool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('alert rules for the node checks (the real promtool)', () => {
  it('are valid and fire on the series overnight-ops exports', () => {
    copyFileSync(
      path.join(root, 'examples/prometheus/overnight-node-rules.yml'),
      path.join(dir, 'overnight-node-rules.yml'),
    );
    copyFileSync(
      path.join(root, 'test/fixtures/prometheus/node-rules.test.yml'),
      path.join(dir, 'node-rules.test.yml'),
    );
    expect(
      execFileSync('promtool', ['check', 'rules', 'overnight-node-rules.yml'], { cwd: dir, encoding: 'utf8' }),
    ).toContain('SUCCESS: 10 rules found');
    expect(
      execFileSync('promtool', ['test', 'rules', 'node-rules.test.yml'], { cwd: dir, encoding: 'utf8' }),
    ).toContain('SUCCESS');
  });
});
