import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nativeCheck } from '../helpers/native-check.js';

// The sampler parses /proc/stat for the aggregate line and three counters only, skipping the per-CPU
// lines (native/sampler/cpu_stat_head.cc); what it keeps must equal the general parser's on this
// machine's file, on a 64-CPU layout and on odd text.
describe("the sampler's /proc/stat parse", () => {
  const c = nativeCheck('cpu_stat_head_check', ['native/sampler/cpu_stat_head.cc', 'native/proc/cpu_stat.cc']);
  const check = (text: string) => {
    const r = c.runText(text);
    return { status: r.status, out: r.out };
  };

  it("agrees with parseCpuStat on this machine's /proc/stat", () => {
    const r = check(readFileSync('/proc/stat', 'utf8'));
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/^ok user=[1-9]\d* idle=[1-9]\d* steal=\d+ ctxt=[1-9]\d* running=[1-9]\d* blocked=\d+$/);
  });

  it('agrees on a 64-CPU layout with a long intr line, and on odd or broken text', () => {
    const cpus = Array.from({ length: 64 }, (_, i) => `cpu${i} ${i} 1 2 3 4 5 6 7 0 0`);
    const text = [
      'cpu  100 2 30 4000 5 6 7 8 9 10',
      ...cpus,
      `intr 123 ${Array.from({ length: 3000 }, (_, i) => i % 7).join(' ')}`,
      'ctxt 987654',
      'btime 1700000000',
      'processes 4242',
      'procs_running 3',
      'procs_blocked 1',
      'softirq 1 2 3',
      '',
    ].join('\n');
    expect(check(text)).toEqual({
      status: 0,
      out: 'ok user=100 idle=4000 steal=8 ctxt=987654 running=3 blocked=1',
    });
    // Per-CPU lines only: no aggregate line, rejected by both.
    expect(check(cpus.join('\n')).out).toMatch(/^rejected/);
    // An aggregate line cut short, no trailing newline, a "cpu" line of only the name.
    expect(check('cpu  1 2 3\nctxt 5\nprocs_running 2').out).toBe(
      'ok user=1 idle=0 steal=0 ctxt=5 running=2 blocked=0',
    );
    expect(check('cpu\ncpu  7 0 0 9\n').out).toBe('ok user=7 idle=9 steal=0 ctxt=0 running=0 blocked=0');
  });
});
