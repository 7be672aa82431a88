// The async scan delivers large tables packed on the worker thread and decoded in chunks that yield
// to the event loop. These tests check that this delivery changes nothing: the same rows, field
// for field, as the one-shot sync scan and as the addon's own objects, for a few hundred real
// children (one with a comm holding a space, a parenthesis, a newline and a non-ASCII letter).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative, type ProcessSample } from '../../src/native.js';
import { unpackProcesses, unpackProcessesChunked, ROWS_PER_CHUNK } from '../../src/readers/packed-processes.js';
import { createProcessTable, listDescendants } from '../../src/readers/processes.js';
import { Sampler } from '../../src/sampler/sampler.js';
import { killAll, spawnGroup, waitFor } from '../helpers/children.js';

const CHILDREN = 300;
const ODD_COMM = 'x y)\nz-\u00e9';
let dir: string;
let leader: number;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ovn-scan-chunked-'));
  const odd = path.join(dir, ODD_COMM);
  copyFileSync('/bin/sleep', odd);
  // One shell forks the sleeps (all in its process group, ended by killAll) and then waits.
  const script = `i=0; while [ $i -lt ${CHILDREN} ]; do sleep 600 & i=$((i+1)); done; "$1" 600 & wait`;
  leader = spawnGroup('sh', ['-c', script, 'sh', odd]).pid!;
  // Ready when every child has exec'd (a forked child reads "sh" until it becomes sleep) and sleeps.
  await waitFor(
    () => {
      const kids = listDescendants(leader);
      return kids.length === CHILDREN + 1 && kids.every((k) => k.comm !== 'sh' && k.state === 'S');
    },
    120_000,
    100,
  );
}, 150_000);

afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** The leader's children, by pid. Sleeping children do not change between two scans. */
function children(rows: ProcessSample[]): ProcessSample[] {
  return rows.filter((p) => p.ppid === leader).sort((a, b) => a.pid - b.pid);
}

describe('chunked delivery of the async scan', () => {
  it('returns the same rows as the one-shot sync scan and as the addon objects', async () => {
    const table = createProcessTable();
    const asyncRows = await table.scanAsync();
    expect(asyncRows.length).toBeGreaterThan(ROWS_PER_CHUNK); // more than one chunk was decoded
    const syncRows = table.scan();
    const { ProcessTable } = loadNative();
    const objects = new ProcessTable().scan();
    const a = children(asyncRows);
    expect(a).toHaveLength(CHILDREN + 1);
    expect(a).toEqual(children(syncRows));
    expect(a).toEqual(children(objects));
    expect(a.filter((p) => p.comm === ODD_COMM)).toHaveLength(1);
    expect(a.filter((p) => p.comm === 'sleep')).toHaveLength(CHILDREN);
  });

  it('decodes one packed table identically whatever the chunk size', async () => {
    const { ProcessTable } = loadNative();
    const packed = new ProcessTable().scan({ packed: true });
    const whole = unpackProcesses(packed);
    expect(whole.length).toBe(packed.rows);
    for (const size of [1, 7, ROWS_PER_CHUNK, packed.rows + 1])
      expect(await unpackProcessesChunked(packed, size)).toEqual(whole);
    // The odd comm survives the NUL-separated transfer.
    expect(whole.some((p) => p.comm === ODD_COMM)).toBe(true);
  });

  it('yields to the event loop between chunks', async () => {
    const { ProcessTable } = loadNative();
    const packed = new ProcessTable().scan({ packed: true });
    let done = false;
    // One row per chunk: the decode spans as many turns of the loop as there are rows, so a callback
    // queued now runs before it ends. (A decode that never yielded would be done first.)
    const decoding = unpackProcessesChunked(packed, 1).then((rows) => {
      done = true;
      return rows;
    });
    const ranWhileDecoding = await new Promise<boolean>((resolve) => setImmediate(() => resolve(!done)));
    expect(ranWhileDecoding).toBe(true);
    expect(await decoding).toHaveLength(packed.rows);
  });
});

describe("chunked delivery of the sampler's process scans", () => {
  it('hands out the rows of the one-shot sync scan of the same tree, decoded across turns of the loop', async () => {
    const s = new Sampler({
      intervalUs: 1_000_000,
      signals: [],
      processes: { descendantsOf: leader, intervalUs: 0, io: false },
    }).start();
    try {
      await s.scanProcesses();
      let turns = 0;
      let counting = true;
      const tick = () => {
        turns++;
        if (counting) setImmediate(tick);
      };
      setImmediate(tick);
      const chunked = await s.readProcessesChunked();
      counting = false;
      expect(chunked.lost).toBe(0);
      expect(chunked.scans).toHaveLength(1);
      const rows = chunked.scans[0].processes;
      expect(rows.length).toBe(CHILDREN + 1);
      expect(rows.length).toBeGreaterThan(ROWS_PER_CHUNK); // more than one chunk
      expect(turns).toBeGreaterThan(0); // the loop ran while the rows were decoded
      const byPid = (a: ProcessSample, b: ProcessSample) => a.pid - b.pid;
      // Sleeping children: nothing in their rows changes between the two scans.
      expect([...rows].sort(byPid)).toEqual(listDescendants(leader).sort(byPid));
      expect(rows.filter((p) => p.comm === ODD_COMM)).toHaveLength(1);
      // Taken from the channel: a second read has nothing new.
      expect((await s.readProcessesChunked()).scans).toHaveLength(0);
    } finally {
      s.stop();
    }
  });
});

describe('kept-open pid files', () => {
  it('are budgeted across all tables of a process: half its fd limit, and scans stay complete beyond it', () => {
    // A child with a 64-descriptor limit: all its tables together may keep 16 pids (32 fds) open.
    const addon = path.resolve(__dirname, '../../build/Release/overnight_native.node');
    const script = `
      const { ProcessTable } = require(${JSON.stringify(addon)});
      const a = new ProcessTable(), b = new ProcessTable();
      const na = a.scan().length, nb = b.scan().length, again = a.scan().length;
      console.log(JSON.stringify({ na, nb, again, kept: a.cachedPids() + b.cachedPids(), keptA: a.cachedPids() }));`;
    const out = execFileSync('sh', ['-c', 'ulimit -n 64 && exec "$0" -e "$1"', process.execPath, script], {
      encoding: 'utf8',
    });
    const r = JSON.parse(out) as { na: number; nb: number; again: number; kept: number; keptA: number };
    expect(r.na).toBeGreaterThan(CHILDREN); // this test file's children are there too
    expect(r.keptA).toBe(16); // the first table took the whole budget
    expect(r.kept).toBe(16); // the second one got none of it
    // Pids beyond the budget are read with open/read/close: no process is left out.
    expect(Math.abs(r.nb - r.na)).toBeLessThan(r.na / 10);
    expect(Math.abs(r.again - r.na)).toBeLessThan(r.na / 10);
  });
});
