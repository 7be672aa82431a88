/** A quick check's reused journal reading does not outlive this process's own journal write. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeInputs } from '../../src/health/node-inputs.js';
import { RecoveryJournalStore } from '../../src/recovery/journal.js';
import { openDatabase, type Db } from '../../src/store/database.js';
import { systemClock } from '../../src/util/clock.js';

let dir = '';
let db: Db | undefined;
afterEach(() => {
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('NodeInputs.recoveries with reuse', () => {
  it('shows a recovery recorded by this process at once, within the reuse window', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ovn-journal-'));
    db = openDatabase(dir);
    const journal = new RecoveryJournalStore(db);
    const inputs = new NodeInputs(systemClock, { recoveries: journal });
    // A long reuse window, so only the write can make the second read fresh.
    expect(inputs.recoveries(60_000).metric.last).toBeNull();
    const now = new Date().toISOString();
    journal.record({
      id: 'rec-1',
      operation_type: 'memory_leak',
      status: 'recovered',
      started_at: now,
      finished_at: now,
      target: { pid: 4104 },
      before: { status: 'critical', breached: ['memory'], memory_used_fraction: 0.9, gpu_statuses: {} },
      result: { message: 'ended pid 4104' },
    });
    const after = inputs.recoveries(60_000);
    expect(after.last?.id).toBe('rec-1');
    expect(after.metric.last).toMatchObject({ id: 'rec-1', status: 'recovered' });
    // Without a write the reading is reused (no new query).
    expect(inputs.recoveries(60_000).last).toBe(after.last);
  });
});
