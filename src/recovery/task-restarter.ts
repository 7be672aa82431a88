/**
 * Restarts a task's registered command after recovery ended its process, with exponential backoff
 * (1 s, 2 s, 4 s ... capped at 5 min) that resets once the task has run stably for 10 min.
 * The restart passes the policy gate like any other act.
 */
import { spawn } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import type { OvernightConfig } from '../config/schema.js';
import type { PolicyGate } from '../policy/policy-gate.js';
import type { Clock } from '../util/clock.js';

interface Backoff {
  attempts: number;
  lastStart: number;
}

export class TaskRestarter {
  private readonly state = new Map<string, Backoff>();

  constructor(
    private readonly tasks: OvernightConfig['tasks'],
    private readonly gate: PolicyGate,
    private readonly clock: Clock,
    private readonly stableMs = 600_000,
    private readonly capMs = 300_000,
  ) {}

  /** The delay before the next restart of a task (0 the first time, or after a stable run). */
  nextDelayMs(taskId: string): number {
    const b = this.state.get(taskId);
    if (!b || this.clock.now() - b.lastStart >= this.stableMs) return 0;
    return Math.min(this.capMs, 1000 * 2 ** (b.attempts - 1));
  }

  async restart(
    taskId: string | undefined,
    actor: string,
    dryRun: boolean,
    sleep = (ms: number): Promise<unknown> => delay(ms),
  ) {
    const task = this.tasks.find((t) => t.id === taskId);
    if (!taskId || !task?.restart) return null;
    const delayMs = this.nextDelayMs(taskId);
    return this.gate.perform(
      { actor, action: 'restart_task', target: { taskId, command: task.restart }, inputs: { delayMs }, dryRun },
      () => null,
      async () => {
        if (delayMs) await sleep(delayMs);
        const prev = this.state.get(taskId);
        const stable = !prev || this.clock.now() - prev.lastStart >= this.stableMs;
        this.state.set(taskId, { attempts: stable ? 1 : prev.attempts + 1, lastStart: this.clock.now() });
        const child = spawn(task.restart![0]!, task.restart!.slice(1), {
          cwd: task.cwd,
          detached: true,
          stdio: 'ignore',
        });
        const pid = await new Promise<number>((resolve, reject) => {
          child.once('spawn', () => resolve(child.pid!));
          child.once('error', reject);
        });
        child.unref();
        return { pid, delayMs };
      },
    );
  }
}
