import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeCheck } from '../helpers/native-check.js';

// The sampler parses /proc/meminfo only up to SwapFree (native/sampler/meminfo_head.cc); its four
// fields must equal the full parser's on this machine's file and on layouts it does not have.
describe("the sampler's early-stopping meminfo parse", () => {
  const c = nativeCheck('meminfo_head_check', ['native/sampler/meminfo_head.cc', 'native/proc/meminfo.cc']);
  const check = (text: string) => {
    const r = c.runText(text);
    return { status: r.status, out: r.out };
  };

  const checkAll = (...texts: string[]) => {
    const files = texts.map((text) => {
      const f = path.join(c.dir(), `m${Math.random().toString(36).slice(2)}`);
      writeFileSync(f, text);
      return f;
    });
    const r = c.run(...files);
    return { status: r.status, lines: r.out.split('\n') };
  };

  it("agrees with parseMemInfo on this machine's /proc/meminfo", () => {
    const r = check(readFileSync('/proc/meminfo', 'utf8'));
    expect(r).toMatchObject({ status: 0 });
    expect(r.out).toMatch(/^ok total=[1-9]\d* available=\d+ swapTotal=\d+ swapFree=\d+ offsets re-read$/);
  });

  it('agrees without MemAvailable (pre-3.14: estimated from free, cached, buffers, SReclaimable past SwapFree)', () => {
    const text = [
      'MemTotal:        1000 kB',
      'MemFree:          100 kB',
      'Buffers:           20 kB',
      'Cached:           300 kB',
      'SwapTotal:        500 kB',
      'SwapFree:         400 kB',
      'Shmem:             10 kB',
      'SReclaimable:      40 kB',
      '',
    ].join('\n');
    const r = check(text);
    expect(r.status).toBe(0);
    expect(r.out).toBe(
      `ok total=${1000 * 1024} available=${460 * 1024} swapTotal=${500 * 1024} swapFree=${400 * 1024} offsets re-read`,
    );
  });

  it('agrees with no swap lines, with lines in another order, and rejects text without MemTotal', () => {
    const noSwap = 'MemAvailable:  700 kB\nMemTotal: 2000 kB\nMemFree: 5 kB\nHugePages_Total: 4\n';
    expect(check(noSwap)).toEqual({
      status: 0,
      out: `ok total=${2000 * 1024} available=${700 * 1024} swapTotal=0 swapFree=0 offsets re-read`,
    });
    // No trailing newline, last field cut short.
    expect(check('MemTotal: 10 kB\nSwapFree: 3 kB\nMemAvailable: 7 kB\nSwapTotal: 9').status).toBe(0);
    expect(check('MemFree: 5 kB\nMemAvailable: 7 kB\n')).toEqual({
      status: 0,
      out: 'rejected total=0 available=7168 swapTotal=0 swapFree=0 offsets re-read',
    });
  });

  it('keeps the line offsets of the previous read while the layout holds, re-reads when a line moves or goes', () => {
    const mem = (total: number, free: number, avail: number, swapFree: number, extra = '') =>
      [
        `MemTotal:       ${String(total).padStart(8)} kB`,
        `MemFree:        ${String(free).padStart(8)} kB`,
        `MemAvailable:   ${String(avail).padStart(8)} kB`,
        'Buffers:            1234 kB',
        extra,
        'SwapCached:            0 kB',
        'SwapTotal:       2097148 kB',
        `SwapFree:       ${String(swapFree).padStart(8)} kB`,
        'Zswap:                 0 kB',
        '',
      ]
        .filter((l, i, all) => l !== '' || i === all.length - 1)
        .join('\n');
    const r = checkAll(
      mem(24684092, 100000, 200000, 2000000),
      mem(24684092, 99999, 199999, 1999999), // new values, same layout: taken at the old offsets
      mem(24684092, 123456789, 123456789, 1999999), // MemAvailable grew past 8 digits: later lines moved
      mem(24684092, 123456789, 123456789, 1999999), // the new layout is kept again
      mem(24684092, 5, 6, 7, 'Cached:               99 kB'), // a line inserted before the swap lines
      'MemTotal: 10 kB\nMemAvailable: 7 kB\nSwapTotal: 9 kB\n', // SwapFree gone: re-read, not cached
      'MemTotal: 10 kB\nMemAvailable: 7 kB\nSwapTotal: 9 kB\n',
      'MemTotal: 10 kB\nSwapFree: 3 kB\n', // keys at other offsets; no MemAvailable
      'MemFree: 5 kB\n', // no MemTotal at all
    );
    expect(r.status).toBe(0);
    expect(r.lines.map((l) => l.replace(/^.* offsets /, ''))).toEqual([
      're-read',
      'kept',
      're-read',
      'kept',
      're-read',
      're-read',
      're-read',
      're-read',
      're-read',
    ]);
    expect(r.lines[1]).toBe(
      `ok total=${24684092 * 1024} available=${199999 * 1024} swapTotal=${2097148 * 1024} ` +
        `swapFree=${1999999 * 1024} offsets kept`,
    );
    expect(r.lines[3]).toMatch(new RegExp(`^ok total=\\d+ available=${123456789 * 1024} `));
    expect(r.lines[8]).toMatch(/^rejected /);
  });
});
