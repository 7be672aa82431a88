/**
 * The wiring rule of issue #16, checked on the real tree: no engine imports up into a surface (mcp/, cli/)
 * or the package entry. The script is run as a child, the way `node scripts/import-graph.mjs` is run by hand.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { root } from '../helpers/isolated.js';

const SCRIPT = path.join(root, 'scripts/import-graph.mjs');

interface Edge {
  from: string;
  to: string;
  count: number;
  files: string[];
}

function graph(dir: string) {
  const r = spawnSync(process.execPath, [SCRIPT, '--check', '--json', dir], { encoding: 'utf8' });
  const parsed = r.stdout ? (JSON.parse(r.stdout) as { edges: Edge[]; upward: Edge[] }) : null;
  return { status: r.status, stderr: r.stderr, graph: parsed };
}

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ovn-graph-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  temps.push(dir);
  return dir;
}

const temps: string[] = [];
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('import graph', () => {
  it('the source tree has no import from an engine up into mcp/, cli/ or index.ts', () => {
    const r = graph(root);
    expect(r.stderr).toBe('');
    expect(r.graph!.upward).toEqual([]);
    expect(r.status).toBe(0);
    // The surfaces do reach the engines through the composition root: the graph is not empty by accident.
    expect(r.graph!.edges).toContainEqual(expect.objectContaining({ from: 'mcp', to: 'context.ts' }));
    expect(r.graph!.edges).toContainEqual(expect.objectContaining({ from: 'context.ts', to: 'health' }));
  });

  it('names an upward import (static, type-only or dynamic) and fails --check', () => {
    const dir = tree({
      'src/mcp/tool.ts': 'export const tool = 1;\n',
      'src/cli/main.ts': "import { tool } from '../mcp/tool.js';\nexport const main = tool;\n",
      'src/index.ts': "export { main } from './cli/main.js';\n",
      'src/health/a.ts': "import type { tool } from '../mcp/tool.js';\nexport type A = typeof tool;\n",
      'src/monitor/b.ts': "export async function b() {\n  return import('../index.js');\n}\n",
      'src/store/c.ts': "import { main } from '../cli/main.js';\nexport const c = main;\n",
    });
    const r = graph(dir);
    expect(r.status).toBe(1);
    expect(r.graph!.upward.map((e) => `${e.from} -> ${e.to}`)).toEqual([
      'health -> mcp',
      'monitor -> index.ts',
      'store -> cli',
    ]);
    expect(r.graph!.upward[0].files).toEqual(['health/a.ts']);
    // A surface importing a surface is not "up".
    expect(r.graph!.edges).toContainEqual(expect.objectContaining({ from: 'cli', to: 'mcp', count: 1 }));
  });

  it('refuses a tree whose relative import does not resolve, naming the file', () => {
    const dir = tree({ 'src/health/a.ts': "import { x } from '../gone/x.js';\nexport const a = x;\n" });
    const r = graph(dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('import-graph: src/health/a.ts: cannot resolve import "../gone/x.js"\n');
  });
});
