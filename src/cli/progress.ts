/** `overnight progress [taskId]` and `overnight progress restore <taskId> [checkpoint]`. */
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { AuditLog } from '../policy/audit-log.js';
import { PolicyGate } from '../policy/policy-gate.js';
import { ProgressTracker } from '../progress/progress-tracker.js';
import { openDatabase } from '../store/database.js';
import { systemClock } from '../util/clock.js';
import { configFileOf } from './config-option.js';
import { printJson } from './format.js';
import { formatDuration, progressBar } from '../util/format.js';
import { describeValue } from '../config/validation.js';

function tracker(configFile?: string) {
  const { config } = loadConfig(configFile);
  const db = openDatabase(config.stateDir);
  // Restores overwrite files: decided by the policy gate and written to the audit log.
  const gate = new PolicyGate(config.policy, new AuditLog(db), systemClock);
  return { db, tracker: new ProgressTracker(db, config, systemClock, gate) };
}

export function registerProgressCommand(program: Command): void {
  const cmd = program
    .command('progress')
    .description('show tasks with progress bars (JSON when not on a terminal); `progress restore` puts artifacts back')
    .argument('[taskId]', 'one task in detail')
    .option('--json', 'print JSON')
    .option('--config <file>', 'configuration file (for the state directory)')
    .action(async (taskId: string | undefined, flags: { json?: boolean; config?: string }) => {
      const { db, tracker: t } = tracker(flags.config);
      try {
        const json = flags.json || !process.stdout.isTTY;
        if (taskId) {
          const r = await t.report(taskId);
          if (json) {
            printJson(r);
            return;
          }
          const eta = r.estimated_completion
            ? `ETA ${r.estimated_completion.eta} (in ` +
              `${formatDuration(r.estimated_completion.seconds_remaining)}, ${r.estimated_completion.method})`
            : `ETA unknown: ${r.estimated_completion_reason}`;
          process.stdout.write(
            `${r.task_id}  ${progressBar(r.current_stage?.completion ?? 0, 30)}  stage ` +
              `${r.current_stage?.stage ?? '-'}\n  ${eta}\n  ${r.checkpoints} checkpoints, ` +
              `${r.stages_completed} stages completed` +
              `${r.stalled.stalled ? `, STALLED for ${formatDuration(r.stalled.for_sec)}` : ''}\n`,
          );
          for (const a of r.artifacts_generated)
            process.stdout.write(`  ${a.exists ? (a.changed ? 'changed' : 'ok     ') : 'MISSING'} ${a.path}\n`);
          if (!r.validation_status.valid)
            for (const reason of r.validation_status.reasons) process.stdout.write(`  ! ${reason}\n`);
          return;
        }
        const tasks = t.list();
        if (json) {
          printJson(tasks);
          return;
        }
        if (!tasks.length) return void process.stdout.write('no tasks yet\n');
        const width = Math.max(...tasks.map((x) => x.task_id.length));
        for (const x of tasks)
          process.stdout.write(
            `${x.task_id.padEnd(width)}  ${progressBar(x.completion ?? 0, 30)}  ${x.stage ?? '-'}  ` +
              `(${x.checkpoints} checkpoints, last ${x.last_checkpoint_at ?? 'never'})\n`,
          );
      } finally {
        db.close();
      }
    });
  cmd
    .command('restore')
    .description(
      "put a task's artifacts back as they were at its last good checkpoint (or the one given), verified by hash",
    )
    .argument('<taskId>')
    .argument('[checkpoint]', 'checkpoint number (seq)')
    .option('--config <file>', 'configuration file (for the state directory)')
    .action(async (taskId: string, checkpoint: string | undefined, _flags: { config?: string }, command: Command) => {
      const seq = checkpoint === undefined ? undefined : Number(checkpoint);
      if (seq !== undefined && (!Number.isInteger(seq) || seq < 1))
        throw new Error(`checkpoint: got ${describeValue(checkpoint)}; expected a checkpoint number (1, 2, ...)`);
      const { db, tracker: t } = tracker(configFileOf(command));
      try {
        const r = await t.restore(taskId, seq);
        printJson(r);
        if (r.checkpoint === null || r.restored.some((x) => !x.ok)) process.exitCode = 1;
      } finally {
        db.close();
      }
    });
}
