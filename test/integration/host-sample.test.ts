import { execFileSync } from 'node:child_process';
import { readFileSync, statfsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createHostReader, sampleHost } from '../../src/readers/host.js';

/** /proc/stat's aggregate cpu line, parsed in TypeScript (independent of the native parser). */
function tsCpuLine(): number[] {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  return line.trim().split(/\s+/).slice(1).map(Number);
}

describe('host sample: memory', () => {
  it('agrees with free -b (total exactly, available within 64 MiB)', () => {
    const s = sampleHost();
    const out = execFileSync('free', ['-b'], { encoding: 'utf8' });
    const mem = out
      .split('\n')
      .find((l) => l.startsWith('Mem:'))!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const [total, , , , , available] = mem;
    expect(s.memory).not.toBeNull();
    expect(s.memory!.total).toBe(total);
    expect(Math.abs(s.memory!.available - available)).toBeLessThan(64 * 1024 * 1024);
    expect(s.memory!.used).toBe(s.memory!.total - s.memory!.available);
    expect(s.memory!.availableEstimated).toBe(false);
  });
});

describe('host sample: cpu', () => {
  it('reads the same jiffies as /proc/stat parsed in TypeScript', () => {
    const before = tsCpuLine();
    const s = sampleHost({ psi: false, cgroup: false });
    const after = tsCpuLine();
    const t = s.cpu!.total;
    const native = [t.user, t.nice, t.system, t.idle, t.iowait, t.irq, t.softirq, t.steal];
    native.forEach((v, i) => {
      expect(v).toBeGreaterThanOrEqual(before[i]);
      expect(v).toBeLessThanOrEqual(after[i]);
    });
    expect(s.cpu!.perCpu.length).toBeGreaterThan(0);
    expect(s.cpu!.ctxt).toBeGreaterThan(0);
    expect(s.cpu!.btime).toBeGreaterThan(1_000_000_000);
  });

  it('computes utilization from the delta to the previous sample of the same reader', async () => {
    const r = createHostReader();
    expect(r.sample().cpu!.utilization).toBeNull();
    const end = Date.now() + 150;
    while (Date.now() < end) {
      /* burn one core */
    }
    const s = r.sample();
    const u = s.cpu!.utilization!;
    expect(u).not.toBeNull();
    expect(u.busy).toBeGreaterThan(0);
    expect(u.busy).toBeLessThanOrEqual(1);
    const sum = u.user + u.nice + u.system + u.idle + u.iowait + u.irq + u.softirq + u.steal;
    expect(sum).toBeCloseTo(1, 6);
    expect(u.busy).toBeCloseTo(1 - u.idle - u.iowait, 6);
    expect(s.cpu!.intervalSec).toBeGreaterThan(0.1);
    expect(s.cpu!.perCpuUtilization!.length).toBe(s.cpu!.perCpu.length);
  });
});

describe('host sample: load, uptime, PSI', () => {
  it('matches /proc/loadavg and /proc/uptime', () => {
    const s = sampleHost();
    const la = readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/);
    expect(s.load!.load15).toBeCloseTo(Number(la[2]), 1);
    expect(s.load!.threads).toBeGreaterThan(0);
    const up = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    expect(Math.abs(s.uptime!.uptimeSec - up)).toBeLessThan(1);
  });

  it('reads PSI totals between two TypeScript reads of /proc/pressure/cpu', () => {
    const total = () => Number(/total=(\d+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'))![1]);
    const before = total();
    const s = sampleHost();
    const after = total();
    expect(s.psi!.cpu!.some!.totalUs).toBeGreaterThanOrEqual(before);
    expect(s.psi!.cpu!.some!.totalUs).toBeLessThanOrEqual(after);
    expect(s.psi!.memory!.full).not.toBeNull();
    expect(s.unavailable['psi.cpu']).toBeUndefined();
  });
});

describe('host sample: cgroup', () => {
  it("finds this process's cgroup and reads its memory and cpu files", () => {
    const s = sampleHost();
    const cg = s.cgroup!;
    expect(cg).not.toBeNull();
    expect(['v1', 'v2', 'hybrid']).toContain(cg.layout);
    expect(cg.memory).not.toBeNull();
    const dir = cg.memory!.source === 'v1' ? cg.v1MemoryDir! : cg.v2Dir!;
    const file = cg.memory!.source === 'v1' ? 'memory.usage_in_bytes' : 'memory.current';
    const usage = Number(readFileSync(`${dir}/${file}`, 'utf8'));
    expect(Math.abs(cg.memory!.usage! - usage)).toBeLessThan(64 * 1024 * 1024);
    expect(cg.cpu).not.toBeNull();
  });

  it('reads the cgroup of another pid, and says ESRCH for a pid that does not exist', () => {
    const s = sampleHost({ cgroupPid: 1 });
    expect(s.cgroup).not.toBeNull();
    const gone = sampleHost({ cgroupPid: 2 ** 22 + 12345 });
    expect(gone.cgroup).toBeNull();
    expect(gone.unavailable.cgroup.code).toBe('ESRCH');
  });
});

describe('host sample: filesystems', () => {
  it('agrees with statfs and reports a missing path with its code', () => {
    const s = sampleHost({ paths: ['/', '/definitely/not/here'] });
    const [root, missing] = s.filesystems;
    const st = statfsSync('/');
    expect(root.totalBytes).toBe(st.blocks * st.bsize);
    expect(root.totalInodes).toBe(st.files);
    expect(missing.error!.code).toBe('ENOENT');
    expect(missing.error!.path).toBe('/definitely/not/here');
  });

  it('reuses nothing of an earlier sample of the same reader: parts not asked for are null, paths as asked', () => {
    // The addon keeps one sample per reader and refills it: a part read before and not asked for
    // now must not show through, and a path that failed must not keep an earlier path's figures.
    const r = createHostReader();
    const full = r.sample({ paths: ['/', '/definitely/not/here'] });
    expect(full.memory).not.toBeNull();
    expect(full.cpu).not.toBeNull();
    expect(full.filesystems.map((f) => f.path)).toEqual(['/', '/definitely/not/here']);
    const none = r.sample({ cpu: false, memory: false, load: false, psi: false, cgroup: false, paths: [] });
    expect(none.memory).toBeNull();
    expect(none.cpu).toBeNull();
    expect(none.load).toBeNull();
    expect(none.uptime).toBeNull();
    expect(none.psi).toBeNull();
    expect(none.cgroup).toBeNull();
    expect(none.filesystems).toEqual([]);
    expect(none.unavailable).toEqual({});
    const swapped = r.sample({
      cpu: false,
      memory: false,
      load: false,
      psi: false,
      cgroup: false,
      paths: ['/nope', '/'],
    });
    const [nope, root] = swapped.filesystems;
    expect(Object.keys(nope).sort()).toEqual(['error', 'path']); // no figures left from '/' in that slot
    expect(nope.path).toBe('/nope');
    expect(nope.error!.code).toBe('ENOENT');
    expect(root.path).toBe('/');
    expect(root.totalBytes).toBe(full.filesystems[0].totalBytes);
    const again = r.sample({ cgroup: false, paths: ['/'] });
    expect(again.memory!.total).toBe(full.memory!.total);
    expect(again.cpu!.perCpu.length).toBe(full.cpu!.perCpu.length);
  });

  it('rejects bad options with a TypeError naming the field', () => {
    expect(() => sampleHost({ paths: 'x' as unknown as string[] })).toThrow(/paths: expected an array/);
    expect(() => sampleHost({ cgroupPid: -1 })).toThrow(/cgroupPid/);
  });
});
