import { describe, expect, it } from 'vitest';
import { loadNative } from '../../src/native.js';

const { parsers } = loadNative();

const v2Mountinfo =
  '30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n';
const v1Mountinfo = [
  '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
].join('\n');

describe('cgroup path resolution', () => {
  it('handles pure cgroup v2', () => {
    const p = parsers.cgroupPaths('0::/user.slice/user-1000.slice/session-3.scope\n', v2Mountinfo)!;
    expect(p.layout).toBe('v2');
    expect(p.v2Dir).toBe('/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope');
    expect(p.v1MemoryDir).toBe('');
  });

  it('handles cgroup v1 with co-mounted cpu,cpuacct', () => {
    const p = parsers.cgroupPaths(
      '4:memory:/slurm/uid_1000/job_42\n2:cpu,cpuacct:/slurm/uid_1000/job_42\n',
      v1Mountinfo,
    )!;
    expect(p.layout).toBe('v1');
    expect(p.v1MemoryDir).toBe('/sys/fs/cgroup/memory/slurm/uid_1000/job_42');
    expect(p.v1CpuDir).toBe('/sys/fs/cgroup/cpu,cpuacct/slurm/uid_1000/job_42');
    expect(p.v1CpuacctDir).toBe(p.v1CpuDir);
  });

  it('handles the hybrid layout (v1 controllers, v2 at /sys/fs/cgroup/unified)', () => {
    const mi = `${v1Mountinfo}\n41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n`;
    const p = parsers.cgroupPaths('4:memory:/job\n0::/job\n', mi)!;
    expect(p.layout).toBe('hybrid');
    expect(p.v2Dir).toBe('/sys/fs/cgroup/unified/job');
    expect(p.v1MemoryDir).toBe('/sys/fs/cgroup/memory/job');
  });

  it("maps a container's namespaced mount root (root is a prefix of the path)", () => {
    const mi = '30 23 0:26 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n';
    const p = parsers.cgroupPaths('0::/kubepods/pod1/ctr\n', mi)!;
    expect(p.v2Dir).toBe('/sys/fs/cgroup/ctr');
  });

  it('unescapes mount points with spaces', () => {
    const mi = '30 23 0:26 / /mnt/my\\040cgroup rw - cgroup2 cgroup2 rw\n';
    expect(parsers.cgroupPaths('0::/a\n', mi)!.v2Dir).toBe('/mnt/my cgroup/a');
  });

  it('returns null when no cgroup is mounted', () => {
    expect(parsers.cgroupPaths('0::/\n', '22 1 8:1 / / rw - ext4 /dev/sda1 rw\n')).toBeNull();
  });
});

describe('/proc parsers', () => {
  it('parses a comm with spaces and parentheses', () => {
    const p = parsers.procStat(
      '42 (a) b (c) S 1 42 42 0 -1 4194560 10 0 0 0 7 3 0 0 20 0 1 0 100 1000 5 18446744073709551615',
    )!;
    expect(p.comm).toBe('a) b (c');
    expect(p.state).toBe('S');
    expect(p.ppid).toBe(1);
    expect(p.utime).toBe(7);
    expect(p.stime).toBe(3);
    expect(p.starttime).toBe(100);
    expect(p.kernelThread).toBe(false);
  });

  it('flags kernel threads by PF_KTHREAD', () => {
    const p = parsers.procStat('2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0')!;
    expect(p.kernelThread).toBe(true);
  });

  it('estimates MemAvailable on old kernels', () => {
    const m = parsers.meminfo(
      'MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 10 kB\nCached: 200 kB\nSReclaimable: 5 kB\n',
    )!;
    expect(m.availableEstimated).toBe(true);
    expect(m.available).toBe(315 * 1024);
    expect(m.used).toBe(685 * 1024);
  });

  it('reads meminfo keys past skipped keys, a line without a colon and a last line without a newline', () => {
    const m = parsers.meminfo(
      [
        'Zswapped:        7 kB',
        'no colon on this line',
        'MemTotal:       2048 kB',
        'MemFreeish:      9 kB', // a key that only starts like one we keep
        'MemFree:         512 kB',
        'MemAvailable:   1024 kB',
        'HugePages_Total:    3', // a count, no unit
      ].join('\n'),
    )!;
    expect(m.total).toBe(2048 * 1024);
    expect(m.free).toBe(512 * 1024);
    expect(m.available).toBe(1024 * 1024);
    expect(m.availableEstimated).toBe(false);
    expect(m.hugePagesTotal).toBe(3);
    expect(parsers.meminfo('MemFree: 1 kB\nMemTotalx: 2 kB\n')).toBeNull(); // no MemTotal
  });

  it('parses PSI "full" lines and skips unknown keys, bare words and unknown kinds', () => {
    const p = parsers.psi(
      'some avg10=1.50 extra=7 avg60=2.25 word avg300=3.00 total=12\n' +
        'other avg10=9.00\n' +
        'full avg10=0.10 avg60=0.20 avg300=0.30 total=99',
    )!;
    expect(p.some).toEqual({ avg10: 1.5, avg60: 2.25, avg300: 3, totalUs: 12 });
    expect(p.full).toEqual({ avg10: 0.1, avg60: 0.2, avg300: 0.3, totalUs: 99 });
    expect(parsers.psi('full avg10=0.10 avg60=0.20 avg300=0.30 total=1\n')).toBeNull(); // "some" is required
  });

  it('parses PSI exactly and without a "full" line', () => {
    const p = parsers.psi('some avg10=0.34 avg60=1.07 avg300=12.50 total=4126559\n')!;
    expect(p.some!.avg10).toBe(0.34);
    expect(p.some!.avg300).toBe(12.5);
    expect(p.some!.totalUs).toBe(4126559);
    expect(p.full).toBeNull();
  });
});
