/** A subscription to NVML events (Xid critical errors, ECC errors), delivered on the JS thread. */
import { loadNative, type NativeGpuEvent } from '../native.js';
import { classifyXid, type XidClassification } from './xid.js';

export const GPU_EVENT = {
  singleBitEcc: 0x1,
  doubleBitEcc: 0x2,
  pstate: 0x4,
  xidCritical: 0x8,
  clock: 0x10,
} as const;

export type GpuEvent = NativeGpuEvent & { classification?: XidClassification };

export interface GpuEventSubscription {
  stop(): void;
}

/**
 * Calls `onEvent` for each event until `stop()`. Xid events carry their classification.
 * Errors of the watcher itself (no NVML, GPU lost while waiting) arrive as `type: 'error'` events.
 * The subscription keeps Node alive until stopped, like a file watcher.
 */
export function watchGpuEvents(
  onEvent: (e: GpuEvent) => void,
  options: { mask?: number; pollMs?: number } = {},
): GpuEventSubscription {
  const { GpuEventWatcher } = loadNative();
  let stopped = false;
  const watcher = new GpuEventWatcher(
    (e) => {
      if (stopped) return;
      onEvent(e.xid !== undefined ? { ...e, classification: classifyXid(e.xid) } : e);
    },
    {
      mask: options.mask ?? GPU_EVENT.xidCritical | GPU_EVENT.doubleBitEcc | GPU_EVENT.singleBitEcc,
      pollMs: options.pollMs ?? 500,
    },
  );
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      watcher.stop();
    },
  };
}
