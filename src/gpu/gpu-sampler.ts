/**
 * GPU sampling through NVML on the native GPU thread, with a deadline. A call past its deadline
 * resolves as timed out; its late result is dropped. The event loop never waits on the driver.
 */
import {
  loadNative,
  type GpuActionResult,
  type GpuSampleResult,
  type NativeGpuWorker,
  type NvmlInfo,
} from '../native.js';

export interface GpuSampleOptions {
  /** utilization, memory, temperature and power only */
  quick?: boolean;
  /** include the processes using each GPU (default true) */
  processes?: boolean;
  /** only these GPU indices */
  indices?: number[];
  /** deadline in milliseconds (default 5000: NVML init without persistence mode can take seconds) */
  timeoutMs?: number;
}

export type GpuSampleOutcome =
  | (GpuSampleResult & { timedOut?: false; elapsedMs: number })
  | { available: false; timedOut: true; reason: string; code: 'TIMEOUT'; elapsedMs: number; stuckForMs: number };

export type GpuActionOutcome =
  | (GpuActionResult & { timedOut?: false })
  | { ok: false; timedOut: true; code: 'TIMEOUT'; message: string; action: string; gpuIndex: number };

interface Pending {
  resolve: (v: { result: GpuSampleResult | GpuActionResult; elapsedUs: number } | null) => void;
  timer: NodeJS.Timeout;
}

let exiting = false;
process.once('exit', () => {
  exiting = true;
});

/** The GPU thread and its pending calls. One per process is enough (see `gpuSampler()`). */
export class GpuSampler {
  private worker: NativeGpuWorker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  private ensureWorker(): NativeGpuWorker {
    if (!this.worker) {
      const { GpuWorker } = loadNative();
      this.worker = new GpuWorker((id, result, elapsedUs) => {
        // Results that arrive while Node shuts down (or after their deadline) are dropped.
        if (exiting) return;
        const p = this.pending.get(id);
        if (!p) return;
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.resolve({ result, elapsedUs });
      });
    }
    return this.worker;
  }

  /** Milliseconds the GPU thread has been inside its current NVML call (0 when idle). */
  busyForMs(): number {
    return this.worker?.busyForMs() ?? 0;
  }

  private submit(timeoutMs: number, send: (w: NativeGpuWorker, id: number) => void) {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<{ result: GpuSampleResult | GpuActionResult; elapsedUs: number } | null>((resolve) => {
      // The timer also keeps Node alive while the call runs (the native callback handle does not).
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(null);
      }, timeoutMs);
      this.pending.set(id, { resolve, timer });
      send(worker, id);
    });
  }

  /** Samples every GPU (or `indices`). Never rejects: failures are `available: false` with a reason. */
  async sample(options: GpuSampleOptions = {}): Promise<GpuSampleOutcome> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const stuck = this.busyForMs();
    if (stuck > timeoutMs) {
      // A previous call is still inside the driver: queueing behind it would only time out too.
      return {
        available: false,
        timedOut: true,
        code: 'TIMEOUT',
        reason: `the GPU thread has been stuck in an NVML call for ${Math.round(stuck)} ms`,
        elapsedMs: 0,
        stuckForMs: stuck,
      };
    }
    const t0 = performance.now();
    const r = await this.submit(timeoutMs, (w, id) =>
      w.sample(id, {
        quick: options.quick ?? false,
        processes: options.processes ?? true,
        ...(options.indices ? { indices: options.indices } : {}),
      }),
    );
    const elapsedMs = performance.now() - t0;
    if (!r) {
      return {
        available: false,
        timedOut: true,
        code: 'TIMEOUT',
        reason: `NVML did not answer within ${timeoutMs} ms`,
        elapsedMs,
        stuckForMs: this.busyForMs(),
      };
    }
    return { ...(r.result as GpuSampleResult), elapsedMs };
  }

  /**
   * Runs an NVML setter on one GPU. Only the policy gate calls this (src/policy/): it changes the node.
   */
  async action(
    gpuIndex: number,
    action: 'resetGpuLockedClocks' | 'resetMemoryLockedClocks' | 'resetApplicationsClocks' | 'setPersistenceMode',
    value = 0,
    timeoutMs = 10_000,
  ): Promise<GpuActionOutcome> {
    const r = await this.submit(timeoutMs, (w, id) => w.action(id, gpuIndex, action, value));
    if (!r)
      return {
        ok: false,
        timedOut: true,
        code: 'TIMEOUT',
        message: `NVML did not answer within ${timeoutMs} ms`,
        action,
        gpuIndex,
      };
    return r.result as GpuActionResult;
  }

  /** Stops the GPU thread (a thread stuck in the driver is abandoned, not waited for). */
  close(): void {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve(null);
    }
    this.pending.clear();
    this.worker?.stop();
    this.worker = undefined;
  }
}

let shared: GpuSampler | undefined;

/** The process-wide GPU sampler. */
export function gpuSampler(): GpuSampler {
  shared ??= new GpuSampler();
  return shared;
}

/** What the NVML loader found (which library, which entry points). Cheap; makes no NVML call. */
export function nvmlInfo(): NvmlInfo {
  return loadNative().nvmlInfo();
}
