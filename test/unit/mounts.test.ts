import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mountOf, parseMountInfo, readMounts } from '../../src/readers/mounts.js';

describe('mount points from /proc/self/mountinfo', () => {
  it('parses fields, optional fields and \\ooo escapes', () => {
    const m = parseMountInfo(
      '36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n27 1 ' +
        '254:0 / / rw - ext4 /dev/vda rw\n',
    );
    expect(m).toEqual([
      { devId: '98:0', mountPoint: '/mnt two', fstype: 'ext3', device: '/dev/root' },
      { devId: '254:0', mountPoint: '/', fstype: 'ext4', device: '/dev/vda' },
    ]);
  });

  it('resolves a real path to the filesystem it is on (the deepest mount of its device)', () => {
    const mounts = readMounts();
    const rootMount = mountOf('/', mounts)!;
    expect(rootMount.mountPoint).toBe('/');
    const dir = mkdtempSync(path.join(tmpdir(), 'ovn-mounts-'));
    const m = mountOf(dir, mounts)!;
    expect(dir === m.mountPoint || dir.startsWith(m.mountPoint === '/' ? '/' : `${m.mountPoint}/`)).toBe(true);
    expect(m.fstype).not.toBe('');
    expect(mountOf('/no/such/path', mounts)).toBeNull();
    expect(mountOf('/proc/self', mounts)!.fstype).toBe('proc');
  });

  it("falls back to the deepest mount point where no mount carries the path's st_dev (btrfs subvolumes)", () => {
    const table = parseMountInfo('1 0 0:1 / / rw - btrfs /dev/sda2 rw\n2 1 0:2 / /proc rw - proc proc rw\n');
    expect(mountOf('/proc/self', table)).toMatchObject({ mountPoint: '/proc', fstype: 'proc' });
    expect(mountOf('/etc', table)).toMatchObject({ mountPoint: '/', device: '/dev/sda2' });
  });
});
