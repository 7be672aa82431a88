/** `overnight record -- <command>`: runs a command and reports the node over its run, like /usr/bin/time -v. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import Table from 'cli-table3';
import { Sampler, benchmarkReport, type BenchmarkReport } from '../sampler/sampler.js';
import { formatBytes, formatPercent } from '../util/format.js';
import { describeValue } from '../config/validation.js';

interface RecordFlags {
  json?: boolean;
  intervalMs: string;
  gpus?: boolean;
  realtime?: boolean;
  output?: string;
}

export function renderReport(r: BenchmarkReport, command: string, exitCode: number | null): string {
  const t = new Table({
    head: ['signal', 'mean', 'p50', 'p95', 'p99', 'max'],
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  const fmt = (name: string, v: number | null) => {
    if (v === null) return '-';
    if (name.endsWith('_bytes')) return formatBytes(v);
    if (name.endsWith('_state')) return String.fromCharCode(Math.round(v));
    if (name.startsWith('cpu_') || name.endsWith('_frac') || name.endsWith('_util') || name.endsWith('_throttle'))
      return formatPercent(v);
    return Number.isInteger(v) ? String(v) : v.toFixed(2);
  };
  for (const [name, s] of Object.entries(r.signals)) {
    if (!s.count) continue;
    t.push([name, fmt(name, s.mean), fmt(name, s.p50), fmt(name, s.p95), fmt(name, s.p99), fmt(name, s.max)]);
  }
  const lines = [
    `Command: ${command}`,
    `Exit status: ${exitCode ?? 'killed'}`,
    `Wall time: ${(r.durationMs / 1000).toFixed(3)} s, ${r.samples} samples (interval p50 ` +
      `${(r.intervalUs.p50 ?? 0).toFixed(0)} µs, p99 ${(r.intervalUs.p99 ?? 0).toFixed(0)} µs), sampler CPU ` +
      `${r.threadCpuMs.toFixed(1)} ms`,
    ...readIntervalsLine(r),
    t.toString(),
    r.trustworthy
      ? 'Trustworthy: yes (no throttling, pressure, steal, noisy neighbours or cgroup limits seen)'
      : `Trustworthy: NO\n${r.flags.map((f) => `  - ${f.flag}: ${f.detail}`).join('\n')}`,
  ];
  return lines.join('\n');
}

/** Says which groups were read less often than every sample (they repeat their value in between). */
function readIntervalsLine(r: BenchmarkReport): string[] {
  const every = r.intervalUs.p50 ?? 0;
  const slower = Object.entries(r.readIntervalsUs).filter(([g, us]) => g !== 'processes' && us > every * 1.5);
  return slower.length
    ? [`Read less often than every sample: ${slower.map(([g, us]) => `${g} every ${us / 1000} ms`).join(', ')}`]
    : [];
}

export function registerRecordCommand(program: Command): void {
  program
    .command('record')
    .description(
      'run a command and report CPU, memory, pressure, cgroup and GPU signals over its run (to stderr), flagging ' +
        'untrustworthy conditions',
    )
    .option('--json', 'report as JSON')
    .option('--interval-ms <ms>', 'sampling interval', '10')
    .option('--gpus', 'include every GPU (NVML)')
    .option('--realtime', 'sample at SCHED_FIFO priority 1 (needs CAP_SYS_NICE), so a loaded node cannot delay samples')
    .option('--output <file>', 'write the report to a file instead of stderr')
    .argument('<command...>', 'the command to run (after --)')
    .action(async (argv: string[], flags: RecordFlags) => {
      const ms = Number(flags.intervalMs);
      if (!Number.isFinite(ms) || ms < 0.1 || ms > 60_000)
        throw new Error(`--interval-ms: got ${describeValue(flags.intervalMs)}; expected milliseconds in [0.1, 60000]`);
      // Its own process group (detached: setsid), so a signal reaches what the command started too:
      // `sh -c 'sleep 302; ...'` killed by pid alone leaves the sleep behind.
      // Forwarding is in place before the command exists: a SIGTERM that came while spawn() or the sampler
      // started would otherwise kill record by default and leave the command's whole group running. A signal
      // caught in that window is delivered by the handler once spawn() has returned (handlers run on the loop).
      const command: { child?: ChildProcess } = {};
      const signalGroup = (sig: NodeJS.Signals) => {
        const pid = command.child?.pid;
        if (pid === undefined) return;
        try {
          process.kill(-pid, sig);
        } catch {
          // ESRCH: the group is empty already.
        }
      };
      process.on('SIGINT', () => signalGroup('SIGINT'));
      process.on('SIGTERM', () => signalGroup('SIGTERM'));
      // Whatever the command left running in its group does not outlive record (its own exit, or a crash).
      process.once('exit', () => signalGroup('SIGTERM'));
      const started = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', detached: true });
      command.child = started;
      await new Promise<void>((resolve, reject) => {
        started.once('spawn', resolve);
        started.once('error', reject);
      });
      const sampler = new Sampler({
        intervalUs: ms * 1000,
        signals: ['memory', 'cpu', 'psi', 'cgroup'],
        pids: [started.pid!],
        realtime: !!flags.realtime,
        ...(flags.gpus ? { gpus: 'all' as const, gpuIntervalUs: Math.max(ms * 1000, 10_000) } : {}),
      }).start();
      const code = await new Promise<number | null>((resolve) => started.once('exit', (c) => resolve(c)));
      signalGroup('SIGTERM');
      const report = benchmarkReport(sampler.stop(), sampler.options);
      const text = flags.json
        ? JSON.stringify({ command: argv, exitCode: code, ...report }, null, 2)
        : renderReport(report, argv.join(' '), code);
      if (flags.output) writeFileSync(flags.output, `${text}\n`);
      else process.stderr.write(`${text}\n`);
      process.exitCode = code ?? 1;
    });
}
