/**
 * A small C++ check program built from a test/native/*_check.cc and the product sources it tests
 * (compiled in beforeAll, removed in afterAll), run on files. The sampler's fast parsers are checked
 * this way against the general parsers, outside Node.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { root } from './isolated.js';

export interface NativeCheck {
  /** Runs the check on these files: its exit status, its output lines and the output trimmed. */
  run: (...files: string[]) => { status: number | null; lines: string[]; out: string };
  /** Writes `text` to a fresh file in the check's directory and runs the check on it. */
  runText: (text: string) => { status: number | null; lines: string[]; out: string };
  /** The check's temporary directory. */
  dir: () => string;
}

/** Registers the build (beforeAll, generous for a loaded machine) and the clean-up (afterAll). */
export function nativeCheck(name: string, productSources: string[]): NativeCheck {
  let dir = '';
  let bin = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), `ovn-${name}-`));
    bin = path.join(dir, name);
    const sources = [`test/native/${name}.cc`, ...productSources].map((s) => path.join(root, s));
    execFileSync('c++', ['-std=c++17', '-O1', '-o', bin, ...sources], { stdio: 'inherit', timeout: 240_000 });
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...files: string[]) => {
    const r = spawnSync(bin, files, { encoding: 'utf8', maxBuffer: 64 << 20 });
    const out = r.stdout.trim();
    return { status: r.status, lines: out.split('\n').filter(Boolean), out };
  };
  return {
    run,
    runText: (text: string) => {
      const f = path.join(dir, `t${Math.random().toString(36).slice(2)}`);
      writeFileSync(f, text);
      return run(f);
    },
    dir: () => dir,
  };
}
