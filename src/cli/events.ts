/** `overnight events`: the node's event history (kernel log, NVML, recoveries, boots), newest first. */
import type { Command } from 'commander';
import Table from 'cli-table3';
import { loadConfig } from '../config/load.js';
import { describeValue } from '../config/validation.js';
import { ingestOnce } from '../events/ingest.js';
import { KMSG_RULES } from '../events/kmsg-catalog.js';
import { openDatabase } from '../store/database.js';
import { parseDuration } from './audit.js';
import { printJson } from './format.js';

/** Kinds written by sources other than the kernel-log catalog (boots, GPU resets, alerts, node checks, NVML). */
const OTHER_KINDS = ['boot', 'gpu_reset', 'kmsg_lost', 'alert', 'operator_check', 'xid'];

interface EventsFlags {
  since: string;
  kind?: string;
  json?: boolean;
  limit: string;
  config?: string;
}

export function registerEventsCommand(program: Command): void {
  program
    .command('events')
    .description(
      'show the event history: kernel log lines (Xid, OOM kills, hung tasks, I/O errors, ...), GPU events, ' +
        'recoveries and boots',
    )
    .option('--since <duration>', 'only events newer than this (30m, 12h, 7d)', '12h')
    .option('--kind <kinds>', 'only these kinds, comma-separated (xid,oom_kill,hung_task,...)')
    .option('--json', 'print a JSON array (the default when stdout is not a terminal)')
    .option('--limit <n>', 'at most this many events', '1000')
    .option('--config <file>', 'configuration file (for the state directory and the kernel log)')
    .action(async (flags: EventsFlags) => {
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit <= 0)
        throw new Error(`--limit: got "${flags.limit.slice(0, 40)}"; expected a positive integer`);
      const sinceMs = Date.now() - parseDuration(flags.since);
      const kinds = flags.kind
        ? flags.kind
            .split(',')
            .map((k) => k.trim())
            .filter(Boolean)
        : undefined;
      if (kinds?.some((k) => !/^[a-z_]{1,40}$/.test(k)))
        throw new Error(
          `--kind: got ${describeValue(flags.kind)}; expected comma-separated kinds such as xid,oom_kill,hung_task`,
        );
      const { config } = loadConfig(flags.config);
      const db = openDatabase(config.stateDir);
      try {
        // Whatever the log holds that no daemon stored yet is stored now, so the history is complete.
        const { events, kernelLog } = await ingestOnce(db, config);
        if (kernelLog && !kernelLog.available)
          process.stderr.write(`overnight: kernel log not read: ${kernelLog.reason}\n`);
        if (kinds) {
          // Known: what the kernel-log catalog and the other sources write, and whatever the store holds.
          const known = new Set([
            ...KMSG_RULES.map((r) => r.kind),
            ...OTHER_KINDS,
            ...events.counts().map((c) => c.kind),
          ]);
          const unknown = kinds.filter((k) => !known.has(k));
          if (unknown.length)
            throw new Error(
              `--kind: unknown ${unknown.map((k) => describeValue(k)).join(', ')}; expected comma-separated kinds ` +
                `from: ${[...known].sort().join(', ')}`,
            );
        }
        const list = events.list({ sinceMs, ...(kinds ? { kinds } : {}), limit });
        if (flags.json || !process.stdout.isTTY) {
          printJson(
            list.map((e) => ({
              time: new Date(e.timeMs).toISOString(),
              source: e.source,
              kind: e.kind,
              severity: e.severity,
              message: e.message,
              subject: e.subject,
              boot_id: e.bootId,
            })),
          );
          return;
        }
        const t = new Table({
          head: ['time', 'source', 'kind', 'severity', 'message'],
          style: { head: [], border: [] },
          wordWrap: true,
          colWidths: [26, 10, 12, 10, 80],
        });
        for (const e of list) t.push([new Date(e.timeMs).toISOString(), e.source, e.kind, e.severity, e.message]);
        process.stdout.write(
          list.length ? `${t.toString()}\n` : `no events since ${new Date(sinceMs).toISOString()}\n`,
        );
      } finally {
        db.close();
      }
    });
}
