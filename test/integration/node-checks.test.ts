import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { loadNative, type ProcessSample } from '../../src/native.js';
import { NodeChecker } from '../../src/node-checks/node-checker.js';
import { createProcessTable } from '../../src/readers/processes.js';
import { firstLine, killAll, procState, spawnCommand, spawnNode, waitFor } from '../helpers/children.js';

const native = loadNative();
const tmp = mkdtempSync(path.join(tmpdir(), 'overnight-nodechecks-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => killAll());

const table = createProcessTable();
const scan = (): Promise<ProcessSample[]> => table.scanAsync({ status: true, cmdline: true });
const noIb = path.join(tmp, 'no-sysfs');
const checker = (nodeChecks: object, extra: object = {}, opts: ConstructorParameters<typeof NodeChecker>[1] = {}) =>
  new NodeChecker(parseConfig({ nodeChecks: { sysfsRoot: noIb, ...nodeChecks }, ...extra }), opts);

describe('mounts (check_fs_mount_rw)', () => {
  it('reads the real mount table natively', async () => {
    const mounts = await native.readMounts('/proc/self/mountinfo');
    const proc = mounts.find((m) => m.mountPoint === '/proc');
    expect(proc).toMatchObject({ fsType: 'proc', readOnly: false });
    expect(mounts.find((m) => m.mountPoint === '/')).toBeDefined();
  });

  it('missing, wrong type and read-only are critical; escaped paths are unescaped', async () => {
    const mi = path.join(tmp, 'mountinfo');
    writeFileSync(
      mi,
      [
        '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro',
        '30 22 0:40 / /scratch rw,relatime shared:2 - xfs /dev/nvme0n1 ro,attr2',
        '31 22 0:41 / /home rw,relatime shared:3 - nfs4 fs:/home rw,vers=4.2',
        '32 22 0:42 / /data\\040set rw master:4 - lustre 10.0.0.1@o2ib:/fs rw',
        '33 22 0:43 / /ro-by-mount ro,relatime - ext4 /dev/sdb rw',
        'garbage line',
      ].join('\n') + '\n',
    );
    const r = await checker(
      {
        mounts: [
          { path: '/' },
          { path: '/scratch' },
          { path: '/home', fsType: 'lustre' },
          { path: '/data set/', fsType: 'lustre' },
          { path: '/gone' },
          { path: '/ro-by-mount' },
          { path: '/ro-by-mount', writable: false },
        ],
      },
      {},
      { mountinfoPath: mi },
    ).run([]);
    expect(r.mounts.available).toBe(true);
    const checked = r.mounts.available ? r.mounts.checked : [];
    expect(checked.map((m) => [m.path, m.status])).toEqual([
      ['/', 'healthy'],
      ['/scratch', 'critical'],
      ['/home', 'critical'],
      ['/data set', 'healthy'],
      ['/gone', 'critical'],
      ['/ro-by-mount', 'critical'],
      ['/ro-by-mount', 'healthy'],
    ]);
    const msgs = r.findings.filter((f) => f.check === 'mount').map((f) => f.message);
    expect(msgs).toContain('filesystem /scratch: mounted read-only (rw,relatime; ro,attr2)');
    expect(msgs).toContain('filesystem /home: mounted as nfs4, expected lustre (source fs:/home)');
    expect(msgs).toContain('filesystem /gone: not mounted');
    expect(r.findings.every((f) => f.severity === 'critical')).toBe(true);
  });

  it('an unreadable mount table is unavailable with the reason', async () => {
    const r = await checker({ mounts: [{ path: '/' }] }, {}, { mountinfoPath: path.join(tmp, 'nope') }).run([]);
    expect(r.mounts).toMatchObject({ available: false, code: 'ENOENT' });
  });
});

describe('processes: daemons, unauthorized users, zombies', () => {
  it('a daemon that must run is found by name or pattern; a missing one is critical', async () => {
    spawnCommand('sleep', ['31415.926']);
    let t: ProcessSample[] = [];
    for (let i = 0; i < 100; i++) {
      t = await scan();
      if (t.some((p) => p.cmdline?.join(' ') === 'sleep 31415.926')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const r = await checker({
      services: ['nvidia-persistenced', { name: 'marker', pattern: '^sleep 31415\\.926$' }, 'sleep'],
    }).run(t);
    expect(r.services.map((s) => [s.name, s.running])).toEqual([
      ['nvidia-persistenced', false],
      ['marker', true],
      ['sleep', true],
    ]);
    expect(r.findings).toContainEqual(
      expect.objectContaining({
        check: 'service',
        severity: 'critical',
        subject: 'nvidia-persistenced',
        message: 'nvidia-persistenced is not running',
      }),
    );
    expect(r.findings.filter((f) => f.check === 'service')).toHaveLength(1);
  });

  it('users with processes who are not allowed are reported (nothing is signalled)', async () => {
    const child = spawnCommand('sleep', ['600'], { uid: 65534, gid: 65534 });
    await waitFor(() => procState(child.pid!) !== null);
    let t: ProcessSample[] = [];
    for (let i = 0; i < 100 && !t.some((p) => p.pid === child.pid && p.uid === 65534); i++) t = await scan();
    const r = await checker({ unauthorizedUsers: { enabled: true, minUid: 1000 } }).run(t);
    const u = r.unauthorized_users.users.find((x) => x.uid === 65534);
    expect(u).toMatchObject({ user: 'nobody' });
    expect(u!.sample_pids).toContain(child.pid);
    expect(r.findings).toContainEqual(
      expect.objectContaining({ check: 'unauthorized_user', severity: 'degraded', subject: 'nobody' }),
    );
    expect(procState(child.pid!)).not.toBeNull(); // report only
    const allowed = await checker({ unauthorizedUsers: { enabled: true, allowedUsers: ['nobody'] } }).run(t);
    expect(allowed.unauthorized_users.users.find((x) => x.uid === 65534)).toBeUndefined();
  });

  it('counts real zombies and names the parent that does not reap them', async () => {
    // sh starts three short children, then execs sleep, which never waits for them.
    const parent = spawnCommand('sh', ['-c', 'true & true & true & exec sleep 600']);
    let t: ProcessSample[] = [];
    for (let i = 0; i < 200; i++) {
      t = await scan();
      // Until sh has exec'd sleep too: on a loaded machine the three may be zombies of sh still.
      const execd = t.some((p) => p.pid === parent.pid && p.comm === 'sleep');
      if (execd && t.filter((p) => p.ppid === parent.pid && p.state === 'Z').length === 3) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const r = await checker({ maxZombies: 2 }).run(t);
    expect(r.zombies.count).toBeGreaterThanOrEqual(3);
    expect(r.zombies.top_parents).toContainEqual({ ppid: parent.pid, zombies: 3, comm: 'sleep' });
    expect(r.findings).toContainEqual(expect.objectContaining({ check: 'zombies', severity: 'degraded' }));
    const relaxed = await checker({ maxZombies: 1000 }).run(t);
    expect(relaxed.findings.filter((f) => f.check === 'zombies')).toEqual([]);
  });
});

describe('file descriptors', () => {
  it('reads file-nr and per-process descriptors natively', async () => {
    const nr = await native.readFileNr('/proc');
    expect(nr.allocated).toBeGreaterThan(0);
    expect(nr.max).toBeGreaterThan(nr.allocated);
    // A quiet child with 40 extra descriptors: its count does not move while we look.
    const child = spawnNode(
      `const fs=require('fs'); const keep=[]; for (let i=0;i<40;i++) keep.push(fs.openSync('/dev/null','r')); ` +
        `console.log('ready'); setInterval(()=>{}, 1<<30);`,
    );
    await firstLine(child);
    const [it, gone] = await native.readProcessFds([child.pid!, 2 ** 22 + 17]);
    expect(it.open).toBe(readdirSync(`/proc/${child.pid}/fd`).length);
    expect(it.open).toBeGreaterThanOrEqual(40);
    expect(it.softLimit).toBeGreaterThan(0);
    expect(gone).toMatchObject({ open: null, error: { code: 'ENOENT' } });
    expect(() => native.readProcessFds([0])).toThrow(/pids/);
  });

  it('a process of the agent tree near its RLIMIT_NOFILE is flagged, and a full file table is critical', async () => {
    const child = spawnNode(
      `const fs=require('fs'); const keep=[]; for (let i=0;i<70;i++) keep.push(fs.openSync('/dev/null','r')); ` +
        `console.log('ready'); setInterval(()=>{}, 1<<30);`,
    );
    await firstLine(child);
    const { execFileSync } = await import('node:child_process');
    execFileSync('prlimit', [`--pid=${child.pid}`, '--nofile=100:100']);
    const procRoot = path.join(tmp, 'proc');
    mkdirSync(path.join(procRoot, 'sys/fs'), { recursive: true });
    writeFileSync(path.join(procRoot, 'sys/fs/file-nr'), '990\t0\t1000\n');
    const t = await scan();
    const r = await checker({ maxFdFraction: 0.5 }, {}, { treeRoot: child.pid, procRoot }).run(t);
    const mine = r.file_descriptors.processes.find((p) => p.pid === child.pid)!;
    expect(mine.soft_limit).toBe(100);
    expect(mine.open).toBeGreaterThanOrEqual(70);
    expect(r.findings).toContainEqual(
      expect.objectContaining({ check: 'file_descriptors', subject: `pid ${child.pid}`, severity: 'degraded' }),
    );
    expect(r.file_descriptors.system).toEqual({ allocated: 990, max: 1000, used_fraction: 0.99 });
    expect(r.findings).toContainEqual(
      expect.objectContaining({ check: 'file_descriptors', subject: 'file-max', severity: 'critical' }),
    );
  });
});
