/**
 * Boots of this node: /proc/sys/kernel/random/boot_id changes at every boot. The first process of
 * a new boot writes a `boot` event saying when the node booted and whether the previous boot ended
 * with a clean stop of the agent's processes (GPUd's "a reboot did not fix it" needs the history).
 */
import { prepared } from '../store/statements.js';
import { readFileSync } from 'node:fs';
import type { Db } from '../store/database.js';
import type { EventStore } from './event-store.js';
import type { NodeEvent } from './types.js';

export interface BootInfo {
  bootId: string;
  /** Wall time of the boot (ms since the epoch), from /proc/stat btime. */
  bootTimeMs: number;
}

/** Reads the current boot's id and time. */
export function currentBoot(): BootInfo {
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
  const bootTimeMs = m
    ? Number(m[1]) * 1000
    : Date.now() - Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
  return { bootId, bootTimeMs };
}

/** Wall time (ms) of a CLOCK_MONOTONIC reading in µs, for this boot. */
export function monoUsToWallMs(monoUs: number): number {
  // process.hrtime is CLOCK_MONOTONIC on Linux, the clock /dev/kmsg stamps records with.
  const monoNowMs = Number(process.hrtime.bigint()) / 1e6;
  return Date.now() - (monoNowMs - monoUs / 1000);
}

export class BootRegistry {
  constructor(
    private readonly db: Db,
    private readonly events: EventStore,
  ) {}

  /**
   * Records that a process of this boot started. On a new boot, stores the `boot` event (once,
   * whichever process comes first) and returns it. A daemon (serve, monitor) clears the stop
   * record, since something runs again; a one-shot command leaves it as it is.
   */
  recordStart(boot: BootInfo = currentBoot(), nowMs = Date.now(), o: { daemon?: boolean } = {}): NodeEvent | null {
    let event: NodeEvent | null = null;
    this.db
      .transaction(() => {
        const known = prepared(this.db, 'SELECT boot_id FROM boots WHERE boot_id = ?').get(boot.bootId);
        if (known) {
          if (o.daemon !== false)
            prepared(this.db, 'UPDATE boots SET stopped_ms = NULL WHERE boot_id = ?').run(boot.bootId);
          return;
        }
        const prev = prepared(
          this.db,
          'SELECT boot_id, boot_time_ms, stopped_ms FROM boots ORDER BY boot_time_ms DESC LIMIT 1',
        ).get() as { boot_id: string; boot_time_ms: number; stopped_ms: number | null } | undefined;
        prepared(this.db, 'INSERT INTO boots (boot_id, boot_time_ms, first_seen_ms) VALUES (?, ?, ?)').run(
          boot.bootId,
          boot.bootTimeMs,
          nowMs,
        );
        const clean = prev ? prev.stopped_ms !== null : null;
        event = {
          source: 'boot',
          kind: 'boot',
          severity: prev && !clean ? 'warning' : 'info',
          subject: prev ? { previousBootId: prev.boot_id, previousCleanStop: Boolean(clean) } : {},
          message: prev
            ? `node booted at ${new Date(boot.bootTimeMs).toISOString()}; the previous boot ` +
              (clean ? 'ended with a clean stop' : 'ended without a clean stop (crash, power loss or a hard reset)')
            : `node booted at ${new Date(boot.bootTimeMs).toISOString()} (first boot in this history)`,
          bootId: boot.bootId,
          monoUs: 0,
          timeMs: boot.bootTimeMs,
          key: `boot:${boot.bootId}`,
        };
      })
      .immediate();
    if (event) this.events.add([event]);
    return event;
  }

  /** A clean stop of a process in this boot (the `stop` record). */
  recordStop(boot: BootInfo = currentBoot(), nowMs = Date.now()): void {
    prepared(this.db, 'UPDATE boots SET stopped_ms = ? WHERE boot_id = ?').run(nowMs, boot.bootId);
  }
}
