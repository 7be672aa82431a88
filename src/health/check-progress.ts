/**
 * A check's progress and cancellation: each step tells the caller how far the check is, and a
 * cancelled check stops at the next step with an AbortError (the MCP tool turns progress into
 * notifications and cancellation into its own answer).
 */
import type { CheckType } from './report.js';

export interface CheckOptions {
  signal?: AbortSignal;
  /** Called as a long check makes progress (the MCP tool turns these into notifications). */
  onProgress?: (done: number, total: number, message: string) => void;
}

const abortError = () => Object.assign(new Error('the health check was cancelled'), { name: 'AbortError' });

/** The step reporter of one check: throws an AbortError once the check has been cancelled. */
export function checkProgress(checkType: CheckType, opts: CheckOptions): (message: string) => void {
  const steps = checkType === 'recovery' ? 6 : checkType === 'full' ? 5 : 2;
  let step = 0;
  return (message) => {
    if (opts.signal?.aborted) throw abortError();
    opts.onProgress?.(++step, steps, message);
  };
}
