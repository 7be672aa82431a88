/** `overnight resources [list]` and `overnight resources release <leaseId>`. */
import type { Command } from 'commander';
import Table from 'cli-table3';
import { loadConfig } from '../config/load.js';
import { createOvernightContext } from '../context.js';
import { configFileOf } from './config-option.js';
import { printJson } from './format.js';

export function registerResourcesCommand(program: Command): void {
  const cmd = program
    .command('resources')
    .description('list GPU leases and memory/disk reservations; `resources release <id>` releases one')
    .option('--json', 'print JSON')
    .option('--all', 'include released and expired leases')
    .option('--config <file>', 'configuration file (for the state directory)')
    .action(async (flags: { json?: boolean; all?: boolean; config?: string }) => {
      const { config } = loadConfig(flags.config);
      const ctx = await createOvernightContext({ config, health: { gpu: null } });
      try {
        await ctx.resources.expireLeases('overnight resources');
        const leases = flags.all ? ctx.resources.leases.list() : ctx.resources.leases.active(null, Date.now());
        if (flags.json || !process.stdout.isTTY) {
          printJson(leases);
          return;
        }
        if (!leases.length) return void process.stdout.write('no active leases\n');
        const t = new Table({
          head: ['id', 'kind', 'task', 'amount', 'gpus / path', 'expires', 'released'],
          style: { head: [], border: [] },
        });
        for (const l of leases)
          t.push([
            l.id,
            l.kind,
            l.task_id,
            l.kind === 'gpu' ? String(l.amount) : `${(l.amount / 2 ** 20).toFixed(0)} MB`,
            l.gpus?.join(',') ?? l.path ?? '',
            l.expires_at,
            l.released_at ?? '',
          ]);
        process.stdout.write(`${t.toString()}\n`);
      } finally {
        await ctx.close();
      }
    });
  cmd
    .command('release')
    .argument('<leaseId>')
    .option('--config <file>', 'configuration file')
    .action(async (id: string, _flags: { config?: string }, command: Command) => {
      const { config } = loadConfig(configFileOf(command));
      const ctx = await createOvernightContext({ config, health: { gpu: null } });
      try {
        const r = await ctx.resources.release(id, 'overnight resources');
        printJson(r);
        if (!r.ok) process.exitCode = 1;
      } finally {
        await ctx.close();
      }
    });
}
