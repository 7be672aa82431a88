/**
 * `overnight health`: one health check from the command line. With --nhc it follows Slurm's
 * HealthCheckProgram contract: exit 0 when the node may run jobs, 1 with a one-line reason when it
 * must not; with --drain it also drains the node through scontrol. It finishes within --timeout
 * (default 30 s), well inside Slurm's 60 s limit.
 */
import { execFile } from 'node:child_process';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { HealthMonitor, type CheckType, type HealthReport } from '../health/health-monitor.js';
import { printJson } from './format.js';

interface HealthFlags {
  config?: string;
  nhc?: boolean;
  drain?: boolean;
  json?: boolean;
  check: CheckType;
  timeout: string;
}

/** The one line Slurm shows as the drain reason. */
export function nhcReason(r: HealthReport): string {
  const gpus = ((r.metrics.gpu_health.devices as { index: number; status: string; reasons: string[] }[] | undefined) ?? []).filter((d) => d.status === 'failed');
  if (gpus.length) return `GPU ${gpus.map((g) => `${g.index}: ${g.reasons[0] ?? 'failed'}`).join('; ')}`;
  const node = r.metrics.node_checks?.findings.find((f) => f.severity === 'critical');
  if (node) return node.message.slice(0, 200);
  const crit = r.recommendations.find((x) => x.severity === 'critical');
  return (crit?.message ?? (r.breached.map((b) => `${b.metric} ${b.observed} > ${b.limit}`).join(', ') || r.status)).slice(0, 200);
}

export function registerHealthCommand(program: Command): void {
  program
    .command('health')
    .description('one health check; --nhc for Slurm\'s HealthCheckProgram (exit code and one-line reason)')
    .option('--config <file>', 'configuration file')
    .option('--nhc', 'Slurm HealthCheckProgram mode: exit 1 with a one-line reason when the node is critical')
    .option('--drain', 'with --nhc: drain the node through scontrol when it is critical')
    .option('--json', 'print the whole report as JSON')
    .option('--check <type>', 'quick | full', 'full')
    .option('--timeout <seconds>', 'give up after this long', '30')
    .action(async (flags: HealthFlags) => {
      const { config } = loadConfig(flags.config);
      const timeoutMs = Number(flags.timeout) * 1000;
      if (!['quick', 'full'].includes(flags.check)) throw new Error(`--check: got "${flags.check}"; expected quick or full`);
      const monitor = new HealthMonitor({ config: { ...config, gpuTimeoutMs: Math.min(config.gpuTimeoutMs, timeoutMs / 2) } });
      const timer = new Promise<null>((r) => setTimeout(() => r(null), timeoutMs).unref());
      const report = await Promise.race([monitor.checkSystemHealth(flags.check), timer]);
      if (!report) {
        process.stdout.write(`overnight: health check timed out after ${flags.timeout} s\n`);
        process.exitCode = flags.nhc ? 1 : 2;
        return;
      }
      if (flags.json) printJson(report);
      if (!flags.nhc) {
        if (!flags.json) process.stdout.write(`${report.status}${report.breached.length ? `: ${nhcReason(report)}` : ''}\n`);
        process.exitCode = report.status === 'critical' ? 1 : 0;
        return;
      }
      if (report.status !== 'critical') {
        if (!flags.json) process.stdout.write(`OK ${report.status}\n`);
        return;
      }
      const reason = `overnight: ${nhcReason(report)}`;
      if (!flags.json) process.stdout.write(`${reason}\n`);
      process.exitCode = 1;
      if (flags.drain) {
        await new Promise<void>((resolve) => execFile('scontrol', ['update', `nodename=${hostname().split('.')[0]}`, 'state=drain', `reason=${reason}`], { timeout: 10_000 }, (err) => {
          if (err) process.stderr.write(`overnight: scontrol failed: ${err.message}\n`);
          resolve();
        }));
      }
    });
}
