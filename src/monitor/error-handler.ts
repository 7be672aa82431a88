/**
 * The design's OvernightErrorHandler: classify -> recover -> escalate -> emergency shutdown.
 * Emergency shutdown is the last resort, only when configured: the agent's process tree is asked
 * to stop (SIGTERM, then SIGKILL after the grace period, each through the policy gate) and the final
 * state is written to the state directory.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { OvernightContext } from '../context.js';
import type { OperationType, RecoveryResult } from '../recovery/recovery-manager.js';
import { listDescendants } from '../readers/processes.js';
import { endProcess } from '../recovery/terminate.js';

export interface HandledError {
  classification: OperationType | 'unknown';
  recovery: RecoveryResult | null;
  escalated: boolean;
  emergency?: { stopped: number[]; finalState: string } | undefined;
}

/** Maps an error (or its text) to the recovery that addresses it. */
export function classifyError(error: unknown): OperationType | 'unknown' {
  const text =
    `${(error as { code?: string })?.code ?? ''} ${(error as Error)?.message ?? String(error)}`.toLowerCase();
  if (/out of memory|oom|enomem|cannot allocate|memory leak/.test(text))
    return /cuda|gpu/.test(text) ? 'gpu_reset' : 'memory_leak';
  if (/xid|nvml|cuda|gpu|ecc|fallen off the bus/.test(text)) return 'gpu_reset';
  if (/timeout|timed out|hang|hung|deadlock|stuck|no progress/.test(text)) return 'process_hang';
  return 'unknown';
}

export class OvernightErrorHandler {
  private consecutiveFailures = 0;

  constructor(
    private readonly ctx: OvernightContext,
    private readonly mode: 'off' | 'dry_run' | 'on',
  ) {}

  /** classify -> recover -> escalate (-> emergency shutdown after repeated failures, if enabled). */
  async handleError(
    error: unknown,
    context: { taskId?: string; pid?: number; gpu?: number } = {},
  ): Promise<HandledError> {
    const classification = classifyError(error);
    process.stderr.write(`overnight: error (${classification}): ${(error as Error)?.message ?? String(error)}\n`);
    let recovery: RecoveryResult | null = null;
    if (classification !== 'unknown' && this.mode !== 'off') {
      recovery = await this.ctx.recovery.recoverOperation(
        classification,
        { ...context, errorType: (error as Error)?.message ?? String(error) },
        { dryRun: this.mode === 'dry_run', actor: 'monitor' },
      );
    }
    const recovered = recovery?.status === 'recovered';
    let escalated = false;
    if (!recovered) {
      const r = await this.ctx.escalator.escalate({
        key: `error:${classification}:${(error as Error)?.message ?? String(error)}`.slice(0, 200),
        severity: 'critical',
        summary: `unrecovered ${classification} error: ${(error as Error)?.message ?? String(error)}`,
        details: { context, recovery: recovery ? { status: recovery.status, message: recovery.message } : null },
      });
      escalated = !r.deduplicated;
    }
    return {
      classification,
      recovery,
      escalated,
      ...(recovered ? {} : { emergency: await this.noteFailure(recovered) }),
    };
  }

  /** Counts consecutive unrecovered critical cycles; returns the emergency report when it fires. */
  async noteFailure(recovered: boolean): Promise<HandledError['emergency']> {
    this.consecutiveFailures = recovered ? 0 : this.consecutiveFailures + 1;
    const m = this.ctx.config.monitor;
    if (!m.emergencyShutdown || this.consecutiveFailures < m.emergencyAfterFailures) return undefined;
    this.consecutiveFailures = 0;
    return this.emergencyShutdown(`${m.emergencyAfterFailures} consecutive cycles critical and unrecovered`);
  }

  noteSuccess(): void {
    this.consecutiveFailures = 0;
  }

  /** Stops the agent's process tree gracefully (deepest first) and writes the final state. */
  async emergencyShutdown(reason: string): Promise<{ stopped: number[]; finalState: string }> {
    const root = this.ctx.gate.scopeOptions.scopeRoot;
    const tree = listDescendants(root).reverse();
    const stopped: number[] = [];
    for (const p of tree) {
      const v = this.ctx.gate.checkProcess(p.pid);
      if (!v.allowed) continue;
      const r = await endProcess(this.ctx.gate, this.ctx.clock, v.process, {
        actor: 'emergency_shutdown',
        dryRun: this.mode !== 'on',
        inputs: { reason },
      });
      if (r.gone || r.actions.some((a) => a.outcome === 'would_do')) stopped.push(p.pid);
    }
    const health = await this.ctx.health.checkSystemHealth('full');
    const finalState = path.join(
      this.ctx.config.stateDir,
      `final-state-${new Date(this.ctx.clock.now()).toISOString().replace(/[:.]/g, '-')}.json`,
    );
    writeFileSync(
      finalState,
      JSON.stringify(
        {
          reason,
          at: new Date(this.ctx.clock.now()).toISOString(),
          stopped,
          dry_run: this.mode !== 'on',
          health,
          tasks: this.ctx.progress.list(),
          leases: this.ctx.resources.leases.active(null, this.ctx.clock.now()),
        },
        null,
        2,
      ),
    );
    await this.ctx.escalator.escalate({
      key: `emergency:${finalState}`,
      severity: 'critical',
      summary: `emergency shutdown: ${reason}`,
      details: { stopped, finalState },
    });
    return { stopped, finalState };
  }
}
