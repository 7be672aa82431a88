/**
 * The watcher's handling of what the native reader reports besides records: lost ranges (EPIPE or
 * a resume past the ring's start), a read error mid-stream, an open refused. The native side of
 * these is covered on the real /dev/kmsg in test/integration/kernel-log.test.ts; here the batches
 * are given, so each path is taken deterministically.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventStore } from '../../src/events/event-store.js';
import { KernelLogWatcher } from '../../src/events/kernel-log.js';
import type { KmsgBatch, NativeBinding } from '../../src/native-types.js';
import { openDatabase, type Db } from '../../src/store/database.js';

let dir: string;
let db: Db;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ovn-kw-'));
  db = openDatabase(dir);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const boot = { bootId: 'boot-a', bootTimeMs: 0 };
const batch = (over: Partial<KmsgBatch>): KmsgBatch => ({
  records: [],
  lost: [],
  overruns: 0,
  ended: false,
  caughtUp: false,
  ...over,
});

function withBatches(
  feed: (push: (b: KmsgBatch) => void, opts: { afterSeq?: number }) => void,
): Pick<NativeBinding, 'KernelLogReader'> {
  return {
    KernelLogReader: class {
      constructor(_path: string, opts: { afterSeq?: number }, onBatch: (b: KmsgBatch) => void) {
        queueMicrotask(() => feed(onBatch, opts));
      }
      stop() {}
    },
  };
}

describe('KernelLogWatcher', () => {
  it('stores one kmsg_lost event per lost range and moves the cursor past it', async () => {
    const store = new EventStore(db);
    const native = withBatches((push) =>
      push(
        batch({
          records: [
            { seq: 120, level: 3, facility: 0, monoUs: 1, text: 'INFO: task x:1 blocked for more than 120 seconds.' },
          ],
          lost: [{ from: 100, to: 119 }],
          overruns: 1,
          caughtUp: true,
        }),
      ),
    );
    const w = new KernelLogWatcher({ native, store, boot });
    w.start();
    const st = await w.caughtUpWith(5000);
    expect(st).toMatchObject({ lostRecords: 20, overruns: 1, lastSeq: 120, events: 2 });
    const lost = store.list({ kinds: ['kmsg_lost'] });
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ severity: 'warning', subject: { seqFrom: 100, seqTo: 119, count: 20 } });
    expect(lost[0].message).toMatch(/20 kernel log record\(s\) lost \(sequence 100-119\)/);
    expect(store.kmsgCursor('boot-a')).toBe(120);
  });

  it('resumes from the stored cursor and becomes unavailable on a read error, keeping what it stored', async () => {
    const store = new EventStore(db);
    store.add([], { bootId: 'boot-a', seq: 41 });
    let asked: number | undefined;
    const native = withBatches((push, opts) => {
      asked = opts.afterSeq;
      push(
        batch({
          records: [{ seq: 42, level: 3, facility: 1, monoUs: 1, text: 'Out of memory: Killed process 7 (x)' }],
        }),
      );
      push(batch({ error: Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }) }));
    });
    const w = new KernelLogWatcher({ native, store, boot });
    w.start();
    const st = await w.caughtUpWith(5000);
    expect(asked).toBe(41);
    expect(st).toMatchObject({ available: false, code: 'EIO', lastSeq: 42 });
    expect(st.reason).toMatch(/^EIO: cannot read \/dev\/kmsg/);
    expect(store.list({ kinds: ['oom_kill'] })).toHaveLength(1);
  });

  it('a batch the reader had queued when stop() came is dropped: nothing stored, nothing logged', async () => {
    const store = new EventStore(db);
    let late: ((b: KmsgBatch) => void) | undefined;
    const native = withBatches((push) => (late = push));
    const logged: string[] = [];
    const w = new KernelLogWatcher({ native, store, boot, log: (line) => logged.push(line) });
    w.start();
    await new Promise((r) => setImmediate(r)); // the reader's first turn: it holds its callback
    w.stop();
    db.close(); // what a closing context does right after stop()
    late!(
      batch({ records: [{ seq: 7, level: 3, facility: 0, monoUs: 1, text: 'Out of memory: Killed process 9 (y)' }] }),
    );
    expect(logged).toEqual([]);
    db = openDatabase(dir);
    expect(new EventStore(db).list({ kinds: ['oom_kill'] })).toHaveLength(0);
  });

  it('an open refused with EACCES is unavailable with the capability named, never a throw', () => {
    const native = {
      // A stand-in for the native class whose constructor fails: a class, since the watcher calls `new` on it.
      // eslint-disable-next-line @typescript-eslint/no-extraneous-class -- only the throwing constructor matters here
      KernelLogReader: class {
        constructor() {
          throw Object.assign(new Error("EACCES: permission denied, open '/dev/kmsg'"), { code: 'EACCES' });
        }
      } as unknown as NativeBinding['KernelLogReader'],
    };
    const st = new KernelLogWatcher({ native, store: new EventStore(db), boot }).start();
    expect(st).toMatchObject({ available: false, code: 'EACCES' });
    expect(st.reason).toMatch(/CAP_SYSLOG.*kernel\.dmesg_restrict/);
  });
});
