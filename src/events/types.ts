/**
 * One event of the node's history, whichever process saw it: a kernel line, an NVML event, a PSI
 * wake-up, a recovery, a boot. The store de-duplicates by `key`.
 */

export type EventSource = 'kmsg' | 'nvml' | 'psi' | 'recovery' | 'monitor' | 'probe' | 'progress' | 'boot';
export type EventSeverity = 'info' | 'warning' | 'critical';

export const EVENT_SOURCES: readonly EventSource[] = [
  'kmsg',
  'nvml',
  'psi',
  'recovery',
  'monitor',
  'probe',
  'progress',
  'boot',
];

/** What an event is about; every field optional. */
export interface EventSubject {
  pid?: number;
  comm?: string;
  gpuIndex?: number;
  pciBusId?: string;
  device?: string;
  path?: string;
  taskId?: string;
  xid?: number;
  /** Whether the process was in the agent's scope (its tree), where that was known. */
  inScope?: boolean;
  [extra: string]: string | number | boolean | undefined;
}

export interface NodeEvent {
  source: EventSource;
  kind: string;
  severity: EventSeverity;
  subject: EventSubject;
  message: string;
  bootId: string;
  /** CLOCK_MONOTONIC of the event in this boot (µs), where known. */
  monoUs: number | null;
  /** Wall time, ms since the epoch. */
  timeMs: number;
  /** De-duplication key: two processes that see the same thing write one row. */
  key: string;
}

/** A stored event, as read back. */
export interface StoredEvent extends NodeEvent {
  id: number;
}
