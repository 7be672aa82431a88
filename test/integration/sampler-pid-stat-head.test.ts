import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nativeCheck } from '../helpers/native-check.js';

// The sampler parses /proc/<pid>/stat only up to rss (native/sampler/pid_stat_head.cc); its five
// fields and its verdict must equal the general parser's on every process of this machine and on
// odd text the machine may not show.
describe("the sampler's /proc/<pid>/stat parse", () => {
  const c = nativeCheck('pid_stat_head_check', [
    'native/sampler/pid_stat_head.cc',
    'native/proc/process.cc',
    'native/proc/kept_open_file.cc',
    'native/proc/sys_error.cc',
  ]);
  const check = c.run;
  const checkText = c.runText;

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
