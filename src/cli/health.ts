/**
 * `overnight health`: one health check from the command line. With --nhc it follows Slurm's
 * HealthCheckProgram contract: exit 0 when the node may run jobs, 1 with a one-line reason when it
 * must not (a status at or below --fail-on); with --drain it also drains the node, and resumes it
 * once healthy, after NHC's conventions (src/health/slurm.ts). It finishes within --timeout
 * (default 30 s), well inside Slurm's 60 s limit.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { HealthMonitor, type CheckType, type HealthReport } from '../health/health-monitor.js';
import { printJson } from './format.js';

interface HealthFlags {
  config?: string;
  nhc?: boolean;
  drain?: boolean;
  failOn?: string;
  resume: boolean;
  json?: boolean;
  check: CheckType;
  timeout: string;
}

/** The one line Slurm shows as the drain reason. */
export function nhcReason(r: HealthReport): string {
  const gpus = ((r.metrics.gpu_health.devices as { index: number; status: string; reasons: string[] }[] | undefined) ?? []).filter((d) => d.status === 'failed');
  if (gpus.length) return `GPU ${gpus.map((g) => `${g.index}: ${g.reasons[0] ?? 'failed'}`).join('; ')}`;
  const crit = r.recommendations.find((x) => x.severity === 'critical');
  return (crit?.message ?? (r.breached.map((b) => `${b.metric} ${b.observed} > ${b.limit}`).join(', ') || r.status)).slice(0, 200);
}

export function registerHealthCommand(program: Command): void {
  program
    .command('health')
    .description('one health check; --nhc for Slurm\'s HealthCheckProgram (exit code and one-line reason)')
    .option('--config <file>', 'configuration file')
    .option('--nhc', 'Slurm HealthCheckProgram mode: exit 1 with a one-line reason when the node is critical')
    .option('--drain', 'with --nhc: drain the node ($SLURMD_NODENAME) when the check fails, reason "overnight: ..."; resume it when the check passes again')
    .option('--fail-on <status>', 'with --nhc: the status that fails the check: critical, or degraded (degraded and critical) (default: slurm.failOn, critical)')
    .option('--no-resume', 'with --drain: never resume a node, even one drained by overnight (default: slurm.resume)')
    .option('--json', 'print the whole report as JSON')
    .option('--check <type>', 'quick | full', 'full')
    .option('--timeout <seconds>', 'give up after this long', '30')
    .action(async (flags: HealthFlags) => {
      const { config } = loadConfig(flags.config);
      const timeoutMs = Number(flags.timeout) * 1000;
      if (!['quick', 'full'].includes(flags.check)) throw new Error(`--check: got "${flags.check}"; expected quick or full`);
      const failOn = flags.failOn ?? config.slurm.failOn;
      if (failOn !== 'critical' && failOn !== 'degraded') throw new Error(`--fail-on: got "${failOn.slice(0, 40)}"; expected critical or degraded`);
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
      const failing = report.status === 'critical' || (failOn === 'degraded' && report.status === 'degraded');
      const reason = `overnight: ${nhcReason(report)}`;
      if (!flags.json) process.stdout.write(failing ? `${reason}\n` : `OK ${report.status}\n`);
      if (failing) process.exitCode = 1;
      if (flags.drain) await reconcileSlurm(config, { failing, reason, resume: flags.resume && config.slurm.resume });
    });
}

/** Drains or resumes the node through the policy gate (audited); scontrol trouble goes to stderr. */
async function reconcileSlurm(config: ReturnType<typeof loadConfig>['config'], o: { failing: boolean; reason: string; resume: boolean }): Promise<void> {
  const [{ reconcileSlurmNode }, { openDatabase }, { AuditLog }, { PolicyGate }, { systemClock }] = await Promise.all([
    import('../health/slurm.js'),
    import('../store/database.js'),
    import('../policy/audit-log.js'),
    import('../policy/policy-gate.js'),
    import('../util/clock.js'),
  ]);
  const db = openDatabase(config.stateDir);
  try {
    const r = await reconcileSlurmNode(new PolicyGate(config.policy, new AuditLog(db), systemClock), o);
    if (r.error) process.stderr.write(`overnight: slurm node ${r.node}: ${r.decision.act === 'none' ? r.decision.why : `${r.decision.act} failed`}: ${r.error}\n`);
    else if (r.decision.act !== 'none') process.stderr.write(`overnight: slurm node ${r.node}: ${r.decision.act === 'drain' ? 'drained' : `resumed (${r.decision.why})`}\n`);
    else if (o.failing) process.stderr.write(`overnight: slurm node ${r.node}: ${r.decision.why}\n`);
  } finally {
    db.close();
  }
}
