/**
 * `overnight health`: one health check from the command line. With --nhc it follows Slurm's
 * HealthCheckProgram contract: exit 0 when the node may run jobs, 1 with a one-line reason when it
 * must not (a status at or above --fail-on), 2 when it cannot tell (timeout, configuration error);
 * with --drain it also drains the node, and resumes it once healthy, after NHC's conventions
 * (src/health/slurm.ts). It finishes within --timeout (default 30 s), well inside Slurm's 60 s limit.
 * With --npd it follows node-problem-detector's custom-plugin contract (0 OK, 1 problem, 2 unknown,
 * one line of at most 80 bytes, default timeout 3 s under NPD's 5 s).
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { describeValue } from '../config/validation.js';
import { HealthMonitor, type CheckType, type HealthReport } from '../health/health-monitor.js';
import { EventHealth } from '../events/event-health.js';
import { GpuInventory } from '../events/gpu-inventory.js';
import { ingestOnce } from '../events/ingest.js';
import { openDatabase } from '../store/database.js';
import { printJson } from './format.js';
import { gpuDevices } from '../health/gpu-health.js';

interface HealthFlags {
  config?: string;
  nhc?: boolean;
  npd?: boolean;
  exitZero?: boolean;
  drain?: boolean;
  failOn?: string;
  resume: boolean;
  json?: boolean;
  check: CheckType;
  timeout?: string;
}

/** The one line Slurm shows as the drain reason. */
export function nhcReason(r: HealthReport): string {
  const gpus = gpuDevices(r.metrics.gpu_health).filter((d) => d.status === 'failed');
  if (gpus.length) return `GPU ${gpus.map((g) => `${g.index}: ${g.reasons[0] ?? 'failed'}`).join('; ')}`;
  const fromEvents = (r.metrics as { events?: { critical: string[] } }).events?.critical[0];
  if (fromEvents) return fromEvents.slice(0, 200);
  const node = r.metrics.node_checks?.findings.find((f) => f.severity === 'critical');
  if (node) return node.message.slice(0, 200);
  const crit = r.recommendations.find((x) => x.severity === 'critical');
  return (
    crit?.message ??
    (r.breached
      .filter((b) => !b.informational)
      .map((b) => `${b.metric} ${b.observed} > ${b.limit}`)
      .join(', ') ||
      r.status)
  ).slice(0, 200);
}

/** NPD's custom-plugin contract: exit 0 OK, 1 problem, 2 unknown; nagios-style for --nhc's unknown too. */
const EXIT = { ok: 0, problem: 1, unknown: 2 } as const;
/** NPD cuts a plugin's message at max_output_length (default 80 bytes). */
export const NPD_MAX_OUTPUT = 80;
/** NPD kills a plugin after its timeout (default 5 s): finish, start-up included, well before it. */
export const NPD_DEFAULT_TIMEOUT_S = 3;

/** The first line of text, cut to at most `max` bytes of UTF-8 without splitting a character. */
export function oneLine(text: string, max: number): string {
  const line = text.split('\n')[0]!;
  const buf = Buffer.from(line, 'utf8');
  if (buf.length <= max) return line;
  let end = max - 3;
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return `${buf.subarray(0, end).toString('utf8')}...`;
}

export function registerHealthCommand(program: Command): void {
  program
    .command('health')
    .description(
      'one health check; exits 1 when not healthy (0 with --exit-zero), 2 when it cannot tell; --nhc for Slurm, ' +
        '--npd for node-problem-detector',
    )
    .option('--config <file>', 'configuration file')
    .option(
      '--nhc',
      'Slurm HealthCheckProgram mode: exit 1 with a one-line reason when the node is critical, 2 when unknown',
    )
    .option(
      '--npd',
      `Kubernetes node-problem-detector plugin: exit 0 OK, 1 problem (critical), 2 unknown; one line of at most ` +
        `${NPD_MAX_OUTPUT} bytes`,
    )
    .option(
      '--drain',
      'with --nhc: drain the node ($SLURMD_NODENAME) when the check fails, reason "overnight: ..."; resume it ' +
        'when the check passes again',
    )
    .option(
      '--fail-on <status>',
      'with --nhc: the status that fails the check: critical, or degraded (degraded and critical) (default: ' +
        'slurm.failOn, critical)',
    )
    .option('--no-resume', 'with --drain: never resume a node, even one drained by overnight (default: slurm.resume)')
    .option('--json', 'print the whole report as JSON')
    .option('--exit-zero', 'exit 0 whatever the status (the status is still printed)')
    .option('--check <type>', 'quick | full', 'full')
    .option(
      '--timeout <seconds>',
      `give up after this long, counted from start-up (default: 30, ${NPD_DEFAULT_TIMEOUT_S} with --npd)`,
    )
    .action(async (flags: HealthFlags) => {
      // Plugins (NHC, NPD) are judged by stdout and the exit code: every failure, a configuration
      // error included, is one line on stdout and "unknown", never silence and never "problem".
      const plugin = flags.npd || flags.nhc;
      const say = (line: string) => process.stdout.write(`${flags.npd ? oneLine(line, NPD_MAX_OUTPUT) : line}\n`);
      const unknown = (why: string) => {
        say(flags.npd ? `UNKNOWN ${why}` : `overnight: UNKNOWN ${why}`);
        process.exitCode = flags.exitZero ? 0 : EXIT.unknown;
      };
      let config: ReturnType<typeof loadConfig>['config'];
      let failOn: string;
      const timeoutS = flags.timeout === undefined ? (flags.npd ? NPD_DEFAULT_TIMEOUT_S : 30) : Number(flags.timeout);
      try {
        if (!Number.isFinite(timeoutS) || timeoutS <= 0 || timeoutS > 3600)
          throw new Error(`--timeout: got ${describeValue(flags.timeout)}; expected seconds in (0, 3600]`);
        if (!['quick', 'full'].includes(flags.check))
          throw new Error(`--check: got ${describeValue(flags.check)}; expected quick or full`);
        if (flags.npd && flags.nhc) throw new Error('--npd and --nhc: choose one plugin contract');
        // Without --nhc the drain would be silently skipped: the operator asked for it, so say so.
        if (flags.drain && !flags.nhc)
          throw new Error('--drain: only with --nhc (Slurm HealthCheckProgram); add --nhc');
        config = loadConfig(flags.config).config;
        failOn = flags.failOn ?? config.slurm.failOn;
        if (failOn !== 'critical' && failOn !== 'degraded')
          throw new Error(`--fail-on: got "${failOn.slice(0, 40)}"; expected critical or degraded`);
      } catch (err) {
        // "Cannot tell" is exit 2 for every mode (and a plugin's one line on stdout), never "problem".
        unknown(`config: ${(err as Error).message.replace(/\s*\n\s*-?\s*/g, ' ')}`);
        if (!plugin) process.stderr.write(`overnight: ${(err as Error).message}\n`);
        return;
      }
      // Counted from process start: the plugin's caller times the whole process, start-up included.
      const timeoutMs = Math.max(100, timeoutS * 1000 - process.uptime() * 1000);
      // The event history (stored by serve and monitor, plus what the kernel log holds that no one
      // stored yet) counts too: a fatal Xid an hour ago still drains the node.
      let db: ReturnType<typeof openDatabase>;
      try {
        // A writer holding the database (another process's long transaction) must not outlast --timeout.
        db = openDatabase(config.stateDir, undefined, Math.min(10_000, timeoutMs / 4));
      } catch (err) {
        // An unwritable or missing state directory: the check cannot tell, it is not the node's problem.
        unknown(`state: ${(err as Error).message}`);
        return;
      }
      const { events, kernelLog } = await ingestOnce(db, config, Math.min(5000, timeoutMs / 4));
      const monitor = new HealthMonitor({
        config: { ...config, gpuTimeoutMs: Math.min(config.gpuTimeoutMs, timeoutMs / 2) },
        events: new EventHealth(events, config, new GpuInventory(db, config.gpu.expectedCount), () => kernelLog),
      });
      const timer = new Promise<null>((r) => setTimeout(() => r(null), timeoutMs).unref());
      const report = await Promise.race([monitor.checkSystemHealth(flags.check), timer]).finally(() => db.close());
      if (!report) {
        unknown(`health check timed out after ${timeoutS} s`);
        // A hung GPU query or probe may hold the event loop: leave now (stdout is a pipe or file: written
        // synchronously).
        process.exit(process.exitCode);
      }
      if (flags.json) printJson(report);
      if (flags.npd) {
        const critical = report.status === 'critical';
        if (!flags.json)
          say(
            critical
              ? nhcReason(report)
              : `OK ${report.status}${report.breached.length ? `: ${nhcReason(report)}` : ''}`,
          );
        process.exitCode = critical && !flags.exitZero ? EXIT.problem : EXIT.ok;
        return;
      }
      if (!flags.nhc) {
        if (!flags.json)
          process.stdout.write(`${report.status}${report.breached.length ? `: ${nhcReason(report)}` : ''}\n`);
        process.exitCode = report.status !== 'healthy' && !flags.exitZero ? EXIT.problem : EXIT.ok;
        return;
      }
      const failing = report.status === 'critical' || (failOn === 'degraded' && report.status === 'degraded');
      const reason = `overnight: ${nhcReason(report)}`;
      if (!flags.json) process.stdout.write(failing ? `${reason}\n` : `OK ${report.status}\n`);
      if (failing) process.exitCode = flags.exitZero ? EXIT.ok : EXIT.problem;
      if (flags.drain) await reconcileSlurm(config, { failing, reason, resume: flags.resume && config.slurm.resume });
    });
}

/** Drains or resumes the node through the policy gate (audited); scontrol trouble goes to stderr. */
async function reconcileSlurm(
  config: ReturnType<typeof loadConfig>['config'],
  o: { failing: boolean; reason: string; resume: boolean },
): Promise<void> {
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
    if (r.error)
      process.stderr.write(
        `overnight: slurm node ${r.node}: ` +
          `${r.decision.act === 'none' ? r.decision.why : `${r.decision.act} failed`}: ${r.error}\n`,
      );
    else if (r.decision.act !== 'none')
      process.stderr.write(
        `overnight: slurm node ${r.node}: ${r.decision.act === 'drain' ? 'drained' : `resumed (${r.decision.why})`}\n`,
      );
    else if (o.failing) process.stderr.write(`overnight: slurm node ${r.node}: ${r.decision.why}\n`);
  } finally {
    db.close();
  }
}
