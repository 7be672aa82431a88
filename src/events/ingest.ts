/**
 * What a one-shot command (overnight events, health, report) does before it reads the history:
 * note the boot and store whatever the kernel log holds that no process stored yet.
 */
import type { OvernightConfig } from '../config/schema.js';
import { loadNative } from '../native.js';
import type { Db } from '../store/database.js';
import { BootRegistry, currentBoot } from './boots.js';
import { EventStore } from './event-store.js';
import { KernelLogWatcher, type KernelLogStatus } from './kernel-log.js';

export interface IngestResult {
  events: EventStore;
  kernelLog: KernelLogStatus | null;
}

export async function ingestOnce(
  db: Db,
  config: Pick<OvernightConfig, 'kernelLog' | 'history' | 'gpu'>,
  timeoutMs = 10_000,
): Promise<IngestResult> {
  const events = new EventStore(db);
  const boot = currentBoot();
  new BootRegistry(db, events).recordStart(boot, Date.now(), { daemon: false });
  if (!config.kernelLog.enabled) return { events, kernelLog: null };
  const watcher = new KernelLogWatcher({
    native: loadNative(),
    store: events,
    boot,
    path: config.kernelLog.path,
    log: (m) => process.stderr.write(`${m}\n`),
  });
  watcher.start();
  const status = await watcher.caughtUpWith(timeoutMs);
  watcher.stop();
  events.prune(
    config.history.retentionDays,
    config.history.maxEvents,
    Date.now(),
    Date.now() - config.gpu.xidWindowSec * 1000,
  );
  return { events, kernelLog: status };
}
