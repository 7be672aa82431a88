import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root } from '../helpers/isolated.js';

// The sampler parses /proc/<pid>/stat only up to rss (native/sampler/pid_stat_head.cc); its five
// fields and its verdict must equal the general parser's on every process of this machine and on
// odd text the machine may not show.
describe("the sampler's /proc/<pid>/stat parse", () => {
  let dir = '';
  let bin = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ovn-pid-stat-head-'));
    bin = path.join(dir, 'pid_stat_head_check');
    execFileSync(
      'c++',
      [
        '-std=c++17',
        '-O1',
        '-o',
        bin,
        path.join(root, 'test/native/pid_stat_head_check.cc'),
        path.join(root, 'native/sampler/pid_stat_head.cc'),
        path.join(root, 'native/proc/process.cc'),
        path.join(root, 'native/proc/kept_open_file.cc'),
        path.join(root, 'native/proc/sys_error.cc'),
      ],
      { stdio: 'inherit', timeout: 240_000 },
    );
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const check = (...files: string[]) => {
    const r = spawnSync(bin, files, { encoding: 'utf8', maxBuffer: 64 << 20 });
    return { status: r.status, lines: r.stdout.trim().split('\n').filter(Boolean), out: r.stdout.trim() };
  };
  const checkText = (text: string) => {
    const f = path.join(dir, `s${Math.random().toString(36).slice(2)}`);
    writeFileSync(f, text);
    return check(f);
  };

  it("agrees with parseProcStat on every process's stat file on this machine", () => {
    const files = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map((d) => `/proc/${d}/stat`);
    const r = check(`/proc/${process.pid}/stat`, ...files);
    expect(r.out).not.toMatch(/differs/);
    expect(r.status).toBe(0);
    // This process is alive throughout: its line comes first, with a real rss and start time.
    expect(r.lines[0]).toMatch(/^ok state=[RS] utime=\d+ stime=\d+ starttime=[1-9]\d* rss=[1-9]\d*$/);
    expect(r.lines.length).toBeGreaterThan(5);
  });

  it('agrees on a comm with spaces and parentheses, with negative fields, and on truncated or broken text', () => {
    const fields = (comm: string) =>
      `4242 (${comm}) S 1 4242 4242 0 -1 4194560 100 0 0 0 17 5 -3 -4 20 -5 3 0 987654 123456789 321 ` +
      '18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n';
    const page = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim());
    expect(checkText(fields('a) (b c) d'))).toEqual({
      status: 0,
      lines: [`ok state=S utime=17 stime=5 starttime=987654 rss=${321 * page}`],
      out: `ok state=S utime=17 stime=5 starttime=987654 rss=${321 * page}`,
    });
    // Cut after the state, and cut inside the numbers: both parsers accept it with what is there.
    expect(checkText('7 (x) R').status).toBe(0);
    expect(checkText('7 (x) R 1 2 3 4 5 6 7 8 9 10 11 12').out).toBe('ok state=R utime=11 stime=12 starttime=0 rss=0');
    // No comm, no closing parenthesis, nothing after it: rejected by both.
    expect(checkText('7 x R 1 2 3').out).toMatch(/^rejected/);
    expect(checkText('7 (x R 1 2 3').out).toMatch(/^rejected/);
    expect(checkText('7 (x)   ').out).toMatch(/^rejected/);
    expect(checkText('7 )x( R 1').out).toMatch(/^rejected/);
  });
});
