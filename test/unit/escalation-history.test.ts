/**
 * The escalator's de-duplication and hourly cap read the alerts recorded in the state database,
 * so a second escalator (a restarted monitor, or another process on the node) over the same
 * database does not re-send within the window. Real SQLite in a temp dir; the log channel only.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { EventStore } from '../../src/events/event-store.js';
import { Escalator, type Alert } from '../../src/recovery/escalation.js';
import { openDatabase } from '../../src/store/database.js';
import { ManualClock } from '../../src/util/clock.js';

/** An escalator wired to the store the way context.ts wires it. */
function escalatorOver(events: EventStore, clock: ManualClock, maxPerHour = Infinity): Escalator {
  const e = new Escalator(parseConfig({ escalation: { dedupSec: 600 } }).escalation, clock);
  e.maxPerHour = maxPerHour;
  e.history = {
    lastSent: (key, since) => events.lastAlertAt(key, since),
    sentSince: (since) => events.alertTimesSince(since),
  };
  let n = 0;
  e.onSent = (a) =>
    events.add([
      {
        source: 'monitor',
        kind: 'alert',
        severity: a.severity,
        subject: { key: a.key },
        message: a.summary,
        bootId: 'b',
        monoUs: null,
        timeMs: clock.now(),
        key: `alert:test:${a.key}:${clock.now()}:${n++}`,
      },
    ]);
  return e;
}

const alert = (key: string): Alert => ({ key, severity: 'warning', summary: `fault ${key}`, details: {} });

describe('Escalator with an alert history', () => {
  it('a new escalator over the same database dedups within the window and sends after it', async () => {
    const events = new EventStore(openDatabase(mkdtempSync(path.join(tmpdir(), 'ovn-esch-'))));
    const clock = new ManualClock();
    expect((await escalatorOver(events, clock).escalate(alert('disk:full:/'))).deduplicated).toBe(false);

    clock.advance(300_000); // a restart 5 min later: within the 10 min window
    const restarted = escalatorOver(events, clock);
    expect((await restarted.escalate(alert('disk:full:/'))).deduplicated).toBe(true);
    expect((await restarted.escalate(alert('other'))).deduplicated).toBe(false); // another key is its own

    clock.advance(301_000); // past the window of the first send
    expect((await escalatorOver(events, clock).escalate(alert('disk:full:/'))).deduplicated).toBe(false);
  });

  it('the hourly cap counts the sends of earlier runs', async () => {
    const events = new EventStore(openDatabase(mkdtempSync(path.join(tmpdir(), 'ovn-esch-'))));
    const clock = new ManualClock();
    const first = escalatorOver(events, clock, 2);
    await first.escalate(alert('a'));
    await first.escalate(alert('b'));
    clock.advance(60_000);
    const r = await escalatorOver(events, clock, 2).escalate(alert('c'));
    expect(r).toMatchObject({ deduplicated: true, rateLimited: true });
    clock.advance(3600_000); // an hour on, the cap has room again
    expect((await escalatorOver(events, clock, 2).escalate(alert('c'))).deduplicated).toBe(false);
  });
});
