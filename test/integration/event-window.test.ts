/**
 * EventStore.window(): the Xid window kept between checks and brought up to date from new rows
 * (src/events/event-window.ts). Against real SQLite files, with a second connection writing and
 * pruning as another process would: after every step the window must equal a fresh query.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventStore } from '../../src/events/event-store.js';
import type { WindowFilter } from '../../src/events/event-window.js';
import type { NodeEvent } from '../../src/events/types.js';
import { openDatabase, type Db } from '../../src/store/database.js';

let dir: string;
let dbs: Db[];
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ovn-evwin-'));
  dbs = [];
});
afterEach(() => {
  for (const d of dbs) d.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(): Db {
  const d = openDatabase(dir);
  dbs.push(d);
  return d;
}

/** A small seeded generator (mulberry32): the same steps on every run, many shapes of history. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KINDS = ['xid', 'hung_task', 'gpu_reset', 'oom_kill'];
let key = 0;
function event(timeMs: number, kind: string): NodeEvent {
  key++;
  return {
    source: 'kmsg',
    kind,
    severity: key % 3 ? 'warning' : 'critical',
    subject: { pid: key },
    message: `event ${key}`,
    bootId: 'b1',
    monoUs: null,
    timeMs,
    key: `k${key}`,
  };
}

/** What a fresh query says the window is: ids newest first, and whether the limit left none out. */
function expected(s: EventStore, sinceMs: number, limit: number, filter: WindowFilter) {
  const all = s.list({
    sinceMs,
    limit: limit + 1,
    ...(filter.kind ? { kinds: [filter.kind] } : {}),
    ...(filter.severity ? { minSeverity: filter.severity } : {}), // critical: the highest, so "at least" is "equal"
  });
  return { ids: all.slice(0, limit).map((e) => e.id), complete: all.length <= limit };
}

describe('EventStore.window', () => {
  it.each([
    [1, 1000],
    [2, 12],
    [3, 3],
  ])('equals a fresh query after every write, deletion and move of the window (seed %i, limit %i)', (seed, limit) => {
    const rnd = random(seed);
    const mine = new EventStore(open());
    const theirs = new EventStore(open()); // another process's connection
    let now = 1_000_000;
    const windowMs = 60_000;
    for (let step = 0; step < 300; step++) {
      const r = rnd();
      const writer = rnd() < 0.5 ? mine : theirs;
      // Mostly new events, some late (older than the newest, even older than the window), a few at one instant.
      const at = () => (rnd() < 0.8 ? now - Math.floor(rnd() * 5_000) : now - Math.floor(rnd() * 2 * windowMs));
      if (r < 0.45) writer.add(Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => event(at(), KINDS[step % 4])));
      else if (r < 0.5) writer.add([event(now, 'xid'), event(now, 'xid'), event(now, 'hung_task')]);
      else if (r < 0.55)
        writer.prune((windowMs / 2 + 1_000) / 86_400_000, 1_000_000, now); // by age
      else if (r < 0.6)
        writer.prune(3650, Math.floor(rnd() * 40), now); // by rows
      else if (r < 0.62) theirs.add([{ ...event(now, 'xid'), key: 'k1' }]); // a key stored before: ignored
      now += Math.floor(rnd() * 2_000);
      for (const filter of [{}, { kind: 'xid' }, { severity: 'critical' as const }]) {
        const got = mine.window(now - windowMs, limit, filter);
        const want = expected(mine, now - windowMs, limit, filter);
        expect(
          { ids: got.events.map((e) => e.id), complete: got.complete },
          `step ${step}, filter ${JSON.stringify(filter)}`,
        ).toEqual(want);
      }
    }
  });

  it('hands out frozen events, the same objects while nothing changed', () => {
    const s = new EventStore(open());
    s.add([event(Date.now(), 'xid')]);
    const a = s.window(Date.now() - 60_000, 100).events;
    const b = s.window(Date.now() - 60_000, 100).events;
    expect(a).toHaveLength(1);
    expect(b[0]).toBe(a[0]);
    expect(Object.isFrozen(a[0])).toBe(true);
    expect(Object.isFrozen(a[0].subject)).toBe(true);
  });

  it('a wider window or a larger limit than the one held reads again', () => {
    const s = new EventStore(open());
    const now = Date.now();
    s.add([event(now - 50_000, 'xid'), event(now - 5_000, 'xid'), event(now - 1_000, 'hung_task')]);
    expect(s.window(now - 10_000, 1).events.map((e) => e.kind)).toEqual(['hung_task']);
    expect(s.window(now - 10_000, 1).complete).toBe(false);
    expect(s.window(now - 10_000, 5).events).toHaveLength(2);
    expect(s.window(now - 60_000, 5).events).toHaveLength(3);
    expect(s.window(now - 60_000, 5).complete).toBe(true);
  });
});
