#!/usr/bin/env node
// The import graph between src/'s top-level parts: each `from -> to` edge (with how many imports make it),
// then the edges that go up from an engine into a surface (mcp/, cli/) or the package entry (index.ts).
// Files directly in src/ are parts of their own (src/context.ts is "context.ts").
// TypeScript's own pre-processor finds the imports (static, `export ... from`, dynamic import() and
// `import type`: a type-only import is a dependency of the design too).
//   node scripts/import-graph.mjs [--check] [--json] [root]   (root: a directory holding src/, default .)
// --check exits 1 when an engine imports up; an import that does not resolve exits 2.
// `importGraph()` is exported for scripts that want the edges as data.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The parts that may import anything: the surfaces and the package entry. */
export const SURFACES = ['mcp', 'cli', 'index.ts'];
/** Below the surfaces: the composition root builds the engines, so it may import them (and not the reverse). */
export const ROOT = 'context.ts';

function walk(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (/\.(ts|mts|js|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The top-level part of a path inside src/: its first directory, or the file's name. */
function partOf(src, file) {
  return path.relative(src, file).split(path.sep)[0];
}

/** Resolves a relative specifier the way tsc's NodeNext does for our sources (.js written, .ts on disk). */
function resolve(fromFile, spec) {
  const base = path.resolve(path.dirname(fromFile), spec);
  // A `.d.ts` declares a module generated into dist/ at build time (scripts/build-validators.mjs).
  const candidates = [
    base,
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.mjs$/, '.mts'),
    `${base}.ts`,
    base.replace(/\.js$/, '.d.ts'),
  ];
  for (const c of candidates) {
    try {
      if (statSync(c).isFile()) return c;
    } catch {
      // not this one
    }
  }
  return null;
}

/**
 * Edges between src/'s parts: { edges: [{ from, to, count, files }], upward, intoRoot }, where `upward` are
 * the edges from anything but a surface into a surface and `intoRoot` those into context.ts. An import
 * that does not resolve throws (a graph with a hole in it would pass for a clean one).
 */
export function importGraph(root = '.') {
  const src = path.resolve(root, 'src');
  const edges = new Map();
  for (const file of walk(src)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName: spec } of info.importedFiles) {
      if (!spec.startsWith('.')) continue; // a package, not ours
      const target = resolve(file, spec);
      if (!target) throw new Error(`${path.relative(root, file)}: cannot resolve import "${spec}"`);
      if (!target.startsWith(src + path.sep)) continue; // package.json and the like
      const from = partOf(src, file);
      const to = partOf(src, target);
      if (from === to) continue;
      const key = `${from} -> ${to}`;
      const e = edges.get(key) ?? { from, to, count: 0, files: new Set() };
      e.count++;
      e.files.add(path.relative(src, file));
      edges.set(key, e);
    }
  }
  const list = [...edges.values()]
    .map((e) => ({ ...e, files: [...e.files].sort() }))
    .sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  const upward = list.filter((e) => !SURFACES.includes(e.from) && SURFACES.includes(e.to));
  // Not a violation (engines take the root's types), but worth seeing: the root should only build.
  const intoRoot = list.filter((e) => !SURFACES.includes(e.from) && e.to === ROOT);
  return { edges: list, upward, intoRoot };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const root = args.find((a) => !a.startsWith('--')) ?? '.';
  let graph;
  try {
    graph = importGraph(root);
  } catch (err) {
    process.stderr.write(`import-graph: ${err.message}\n`);
    process.exit(2);
  }
  const { edges, upward, intoRoot } = graph;
  if (args.includes('--json')) {
    process.stdout.write(JSON.stringify({ edges, upward, intoRoot }, null, 2) + '\n');
  } else {
    for (const e of edges) process.stdout.write(`${e.from} -> ${e.to}  (${e.count})\n`);
    process.stdout.write(
      `\n${edges.length} edges between ${new Set(edges.flatMap((e) => [e.from, e.to])).size} parts\n`,
    );
    if (upward.length) {
      process.stdout.write(`\nUp from an engine into ${SURFACES.join(', ')}:\n`);
      for (const e of upward) process.stdout.write(`${e.from} -> ${e.to}: ${e.files.join(', ')}\n`);
    } else {
      process.stdout.write(`No engine imports ${SURFACES.join(', ')}.\n`);
    }
    for (const e of intoRoot) process.stdout.write(`${e.from} imports the composition root: ${e.files.join(', ')}\n`);
  }
  if (args.includes('--check') && upward.length) process.exitCode = 1;
}
