/**
 * The native kernel-log reader against the real /dev/kmsg: lines injected as root (facility user)
 * with a marker unique to this run, so other lines in the ring buffer (and other test runs) do not
 * matter.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentBoot } from '../../src/events/boots.js';
import { EventStore } from '../../src/events/event-store.js';
import { KernelLogWatcher } from '../../src/events/kernel-log.js';
import { loadNative, packageRoot } from '../../src/native.js';
import { openDatabase, type Db } from '../../src/store/database.js';
import { canWriteKmsg, injectKmsg, uniqueMarker, waitFor } from '../helpers/kmsg.js';

const native = loadNative();
const root = canWriteKmsg();

describe('parsers.kmsgRecord', () => {
  it('parses priority, sequence, monotonic time, unescapes \\xNN and reads the dictionary', () => {
    const r = native.parsers.kmsgRecord(
      '11,7431,123456789,-,caller=T1;line one\\x0aline two \\x5c end\n SUBSYSTEM=pci\n DEVICE=+pci:0000:3b:00.0\n',
    );
    expect(r).toEqual({
      seq: 7431,
      level: 3,
      facility: 1,
      monoUs: 123456789,
      text: 'line one\nline two \\ end',
      subsystem: 'pci',
      device: '+pci:0000:3b:00.0',
    });
    expect(native.parsers.kmsgRecord('6,1,2,c;partial')).toMatchObject({
      seq: 1,
      level: 6,
      facility: 0,
      text: 'partial',
    });
  });
  it('returns null for a malformed header', () => {
    for (const bad of ['', 'no header', '3,x,1,-;text', '3,1;text']) expect(native.parsers.kmsgRecord(bad)).toBeNull();
  });
});

describe.skipIf(!root)('KernelLogWatcher on the real /dev/kmsg', () => {
  let dir: string;
  let db: Db;
  const watchers: KernelLogWatcher[] = [];
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ovn-kmsg-'));
    db = openDatabase(dir);
  });
  afterEach(() => {
    for (const w of watchers.splice(0)) w.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const watcher = (store: EventStore) => {
    const w = new KernelLogWatcher({ native, store, boot: currentBoot() });
    watchers.push(w);
    return w;
  };
  const ofRun = (store: EventStore, marker: string) =>
    store.list({ limit: 100_000 }).filter((e) => e.message.includes(marker));

  it('turns injected kernel lines into stored events, with the fields of each kind', async () => {
    const m = uniqueMarker();
    const store = new EventStore(db);
    const w = watcher(store);
    expect(w.start()).toMatchObject({ available: true, path: '/dev/kmsg' });
    await w.caughtUpWith(30_000);
    injectKmsg(`NVRM: Xid (PCI:0000:3b:00): 79, pid=4242, name=${m}, GPU has fallen off the bus.`);
    injectKmsg(`Memory cgroup out of memory: Killed process 4243 (${m}) total-vm:1024kB, anon-rss:900kB`);
    injectKmsg(`INFO: task ${m}:4244 blocked for more than 120 seconds.`);
    injectKmsg(`blk_update_request: I/O error, dev ${m}, sector 2048 op 0x0:(READ) flags 0x0`);
    injectKmsg(`an ordinary line ${m} that is not an event`, 6);
    const events = await waitFor(
      () => {
        const e = ofRun(store, m);
        return e.length >= 4 ? e : null;
      },
      30_000,
      'four injected events',
    );
    const byKind = Object.fromEntries(events.map((e) => [e.kind, e]));
    expect(Object.keys(byKind).sort()).toEqual(['hung_task', 'io_error', 'oom_kill', 'xid']);
    expect(byKind.xid).toMatchObject({
      source: 'kmsg',
      severity: 'critical',
      subject: { xid: 79, pciBusId: '0000:3b:00.0', pid: 4242, comm: m },
    });
    expect(byKind.oom_kill.subject).toMatchObject({ pid: 4243, comm: m });
    expect(byKind.hung_task.subject).toMatchObject({ pid: 4244, comm: m, seconds: 120 });
    expect(byKind.io_error.subject).toMatchObject({ device: m, sector: 2048 });
    // Wall time from the monotonic stamp: within the test's own span.
    for (const e of events) expect(Math.abs(e.timeMs - Date.now())).toBeLessThan(120_000);
    expect(events.every((e) => e.bootId === currentBoot().bootId)).toBe(true);
  });

  it('resumes after a restart from the stored sequence: lines written while stopped arrive once', async () => {
    const m = uniqueMarker();
    const storeA = new EventStore(db);
    const a = watcher(storeA);
    a.start();
    await a.caughtUpWith(30_000);
    injectKmsg(`Out of memory: Killed process 5001 (${m}a) total-vm:1kB`);
    await waitFor(() => ofRun(storeA, m).length === 1, 30_000, 'the first event');
    const seqA = a.status().lastSeq;
    a.stop();
    // Written while no reader runs.
    injectKmsg(`Out of memory: Killed process 5002 (${m}b) total-vm:1kB`);
    injectKmsg(`Out of memory: Killed process 5003 (${m}c) total-vm:1kB`);
    const storeB = new EventStore(db);
    expect(storeB.kmsgCursor(currentBoot().bootId)).toBeGreaterThanOrEqual(seqA);
    const b = watcher(storeB);
    b.start();
    await b.caughtUpWith(30_000);
    const events = await waitFor(
      () => {
        const e = ofRun(storeB, m);
        return e.length >= 3 ? e : null;
      },
      30_000,
      'the lines written while stopped',
    );
    expect(events.map((e) => e.subject.pid).sort()).toEqual([5001, 5002, 5003]);
    // b started after a's cursor: it read nothing a had read.
    expect(b.status().events).toBe(2);
    expect(b.status().lostRecords).toBe(0);
  });

  it('two readers of one store write each line once', async () => {
    const m = uniqueMarker();
    const s1 = new EventStore(db);
    const db2 = openDatabase(dir);
    try {
      const s2 = new EventStore(db2);
      const [w1, w2] = [watcher(s1), watcher(s2)];
      w1.start();
      w2.start();
      await Promise.all([w1.caughtUpWith(30_000), w2.caughtUpWith(30_000)]);
      injectKmsg(`python3[6001]: segfault at 0 ip 00007f00 sp 00007ffd error 4 in ${m}.so[7f00+1000]`);
      await waitFor(
        () => w1.status().lastSeq >= 0 && w2.status().lastSeq === w1.status().lastSeq && ofRun(s1, m).length === 1,
        30_000,
        'both readers',
      );
      await waitFor(() => w2.status().lastSeq >= w1.status().lastSeq, 30_000, 'the second reader');
      expect(ofRun(s1, m)).toHaveLength(1);
      expect(w1.status().events + w2.status().events).toBeGreaterThanOrEqual(1);
    } finally {
      db2.close();
    }
  });
});

describe.skipIf(!root)('an unprivileged reader', () => {
  it('gets EPERM/EACCES as an unavailable reason naming CAP_SYSLOG, not a crash', () => {
    // A real unprivileged process (uid nobody) opens /dev/kmsg while kernel.dmesg_restrict = 1.
    const restrict = execFileSync('cat', ['/proc/sys/kernel/dmesg_restrict'], { encoding: 'utf8' }).trim();
    const script = `
      const { KernelLogWatcher } = await import(${JSON.stringify(path.join(packageRoot, 'dist/events/kernel-log.js'))});
      const { loadNative } = await import(${JSON.stringify(path.join(packageRoot, 'dist/native.js'))});
      const store = { kmsgCursor: () => -1, add: () => [] };
      const w = new KernelLogWatcher({ native: loadNative(), store, boot: { bootId: 'b', bootTimeMs: 0 } });
      process.stdout.write(JSON.stringify(w.start()));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      uid: 65534,
      gid: 65534,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const st = JSON.parse(r.stdout) as { available: boolean; code: string; reason: string };
    if (restrict === '1') {
      expect(st.available).toBe(false);
      expect(['EPERM', 'EACCES']).toContain(st.code);
      expect(st.reason).toMatch(/CAP_SYSLOG/);
      expect(st.reason).toMatch(/dmesg_restrict = 1/);
    } else {
      expect(st.available).toBe(true);
    }
  });
});
