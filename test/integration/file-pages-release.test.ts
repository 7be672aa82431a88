/**
 * The daemon's start-up pages (native/proc/file_pages.cc): which areas of /proc/self/smaps may be
 * dropped, and what dropping them does on this kernel: clean read-only file pages leave the page
 * tables and read back unchanged; a private copy (a written page made read-only again) and a
 * writable area are never touched.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../../src/native.js';
import { root } from '../helpers/isolated.js';
import { nativeCheck } from '../helpers/native-check.js';

/** One smaps record; `fields` overrides the clean defaults. */
function area(header: string, fields: Record<string, string> = {}, flags = 'rd mr mw me sd'): string {
  const f: Record<string, string> = {
    Size: '64 kB',
    Rss: '64 kB',
    Pss: '64 kB',
    Shared_Clean: '0 kB',
    Shared_Dirty: '0 kB',
    Private_Clean: '64 kB',
    Private_Dirty: '0 kB',
    Anonymous: '0 kB',
    Swap: '0 kB',
    Locked: '0 kB',
    ...fields,
  };
  return [header, ...Object.entries(f).map(([k, v]) => `${k}: ${v.padStart(12)}`), `VmFlags: ${flags} `].join('\n');
}

describe('releasing the start-up pages of read-only file mappings', () => {
  const c = nativeCheck('file_pages_check', [
    'native/proc/file_pages.cc',
    'native/proc/kept_open_file.cc',
    'native/proc/sys_error.cc',
  ]);

  it('on this kernel: clean pages leave and read back the same; a private copy and a writable area stay', () => {
    const r = c.run(path.join(c.dir(), 'mapped'));
    expect(r.status, r.out).toBe(0);
    const v = Object.fromEntries(r.out.split(' ').map((kv) => kv.split('=') as [string, string]));
    expect(v).toMatchObject({ clean_before: '64', clean_after: '0', clean_intact: '1', copied_kept: '1' });
    expect(v.copied_after).toBe('64');
    expect(v.rw_after).toBe('64');
    expect(Number(v.areas)).toBeGreaterThan(0);
    expect(Number(v.released_kb)).toBeGreaterThanOrEqual(256);
  });

  it('chooses only private, read-only file areas with resident pages and no private copies', () => {
    const smaps = [
      area('00400000-00410000 r--p 00000000 fe:00 260689                             /usr/bin/node'),
      area('00410000-00420000 r-xp 00010000 fe:00 260689                             /usr/bin/node'),
      // Relocated (copied on write), then made read-only: its copies would be lost.
      area('00420000-00430000 r--p 00020000 fe:00 260689   /usr/bin/node', {
        Anonymous: '8 kB',
        Private_Dirty: '8 kB',
      }),
      area('00430000-00440000 rw-p 00030000 fe:00 260689   /usr/bin/node'),
      area('7f0000000000-7f0000010000 r--s 00000000 fe:00 77   /var/lib/overnight/state.db-shm'),
      area('7f0000010000-7f0000020000 r--p 00000000 00:00 0 '),
      area('7f0000020000-7f0000030000 r--p 00000000 00:06 12   /dev/nvidia0'),
      area('7f0000030000-7f0000040000 r--p 00000000 fe:00 99   /usr/lib/libc.so.6', { Rss: '0 kB' }),
      area('7f0000040000-7f0000050000 r-xp 00000000 fe:00 98   /usr/lib/locked.so', { Locked: '64 kB' }, 'rd ex lo'),
      area('7f0000050000-7f0000060000 r--p 00000000 fe:00 97   /usr/lib/swapped.so', { Swap: '4 kB' }),
      area('7f0000060000-7f0000070000 r--p 00000000 fe:00 96   /usr/lib/huge.so', {}, 'rd ht'),
      // Pages the page cache has not written back yet count as dirty; they stay in the cache.
      area('7f0000070000-7f0000080000 r--p 00000000 fe:00 95   /usr/lib/fresh.so', {
        Shared_Dirty: '4 kB',
        Private_Dirty: '8 kB',
      }),
      area('7f0000080000-7f0000090000 ---p 00000000 fe:00 94   /usr/lib/guard.so'),
      area('7f0000090000-7f00000a0000 r--p 00000000 fe:00 93   /usr/lib/old.so (deleted)'),
    ].join('\n');
    const chosen = loadNative().parsers.releasableFileAreas(smaps);
    expect(chosen.map((a) => [a.start.toString(16), a.path])).toEqual([
      ['400000', '/usr/bin/node'],
      ['410000', '/usr/bin/node'],
      ['7f0000070000', '/usr/lib/fresh.so'],
      ['7f0000090000', '/usr/lib/old.so (deleted)'],
    ]);
    expect(chosen[0]).toMatchObject({ end: 0x410000, rssKb: 64 });
  });

  it('a record cut short (a read that stopped early) is never chosen', () => {
    const whole = area('00400000-00410000 r--p 00000000 fe:00 260689   /usr/bin/node');
    const native = loadNative();
    expect(native.parsers.releasableFileAreas(whole)).toHaveLength(1);
    // Without its Anonymous line, or without its last line (VmFlags), nothing proves it clean.
    expect(native.parsers.releasableFileAreas(whole.slice(0, whole.indexOf('Anonymous')))).toEqual([]);
    expect(native.parsers.releasableFileAreas(whole.slice(0, whole.indexOf('VmFlags')))).toEqual([]);
    expect(native.parsers.releasableFileAreas('')).toEqual([]);
    expect(() => native.parsers.releasableFileAreas(42 as unknown as string)).toThrow(/smaps/);
  });

  it('in a Node process: the file-backed RSS falls and the process goes on working', async () => {
    const script =
      `import { createRequire } from 'node:module'; import { readFileSync } from 'node:fs';` +
      `const file = () => Number(/RssFile:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);` +
      `const { loadNative } = await import(${JSON.stringify(path.join(root, 'dist/native.js'))});` +
      `const before = file(); const r = await loadNative().releaseFilePages(); const after = file();` +
      `const work = JSON.stringify([...Array(1000).keys()].map((i) => ({ i, s: Math.sqrt(i).toFixed(3) }))).length;` +
      `console.log(JSON.stringify({ before, after, ...r, work }));`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    const r = JSON.parse(out) as { before: number; after: number; areas: number; releasedKb: number; work: number };
    expect(r.areas).toBeGreaterThan(0);
    // Node's own start-up touches tens of MB of its binary; most of it leaves at once.
    expect(r.releasedKb).toBeGreaterThan(4096);
    expect(r.after).toBeLessThan(r.before - r.releasedKb / 2);
    expect(r.work).toBeGreaterThan(10_000);
  });
});
