/** `overnight audit`: the policy gate's decisions and outcomes, newest last. */
import type { Command } from 'commander';
import Table from 'cli-table3';
import { loadConfig } from '../config/load.js';
import { describeValue } from '../config/validation.js';
import { AuditLog } from '../policy/audit-log.js';
import { openDatabase } from '../store/database.js';
import { printJson } from './format.js';

interface AuditFlags {
  json?: boolean;
  limit: string;
  since?: string;
  action?: string;
  config?: string;
}

/** "90s", "15m", "2h", "1d" -> milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/.exec(text.trim());
  if (!m) throw new Error(`--since: got ${describeValue(text)}; expected a duration such as 30m, 2h or 1d`);
  return Number(m[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('show the audit log: every destructive decision (allowed or refused) and its outcome')
    .option('--json', 'print JSON (the default when stdout is not a terminal)')
    .option('--limit <n>', 'at most this many entries', '50')
    .option('--since <duration>', 'only entries newer than this (30m, 2h, 1d)')
    .option('--action <action>', 'only this action (signal, gpu_reset, delete, ...)')
    .option('--config <file>', 'configuration file (for the state directory)')
    .action((flags: AuditFlags) => {
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit <= 0)
        throw new Error(`--limit: got ${describeValue(flags.limit)}; expected a positive integer`);
      const { config } = loadConfig(flags.config);
      const db = openDatabase(config.stateDir);
      const entries = new AuditLog(db).list({
        limit,
        ...(flags.since ? { sinceMs: Date.now() - parseDuration(flags.since) } : {}),
        ...(flags.action ? { action: flags.action } : {}),
      });
      db.close();
      if (!entries.length) {
        // Say so (on stderr when stdout carries JSON): an empty table looks like a broken command.
        const what =
          `no audit entries${flags.since || flags.action ? ' match the filters' : ''} in ` +
          `${config.stateDir} (the policy gate records a decision each time something asks to act)`;
        if (flags.json || !process.stdout.isTTY) {
          process.stderr.write(`overnight: ${what}\n`);
          printJson(entries);
          return;
        }
        process.stdout.write(`${what}\n`);
        return;
      }
      if (flags.json || !process.stdout.isTTY) {
        printJson(entries);
        return;
      }
      const t = new Table({
        head: ['time', 'phase', 'actor', 'action', 'target', 'decision', 'reason / outcome'],
        style: { head: [], border: [] },
        wordWrap: true,
        colWidths: [26, 10, 18, 16, 30, 10, 50],
      });
      for (const e of entries) {
        t.push([
          e.ts,
          e.phase,
          e.actor,
          e.action,
          JSON.stringify(e.target),
          e.dry_run ? 'dry run' : e.allowed ? 'allowed' : 'REFUSED',
          e.phase === 'outcome' ? JSON.stringify(e.outcome) : e.reason,
        ]);
      }
      process.stdout.write(`${t.toString()}\n`);
    });
}
