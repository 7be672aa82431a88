/** `overnight record -- <command>`: runs a command and reports the node over its run, like /usr/bin/time -v. */
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import Table from 'cli-table3';
import { capText, describeValue } from '../config/validation.js';
import { Sampler, benchmarkReport, type BenchmarkReport } from '../sampler/sampler.js';
import { formatBytes, formatPercent } from '../util/format.js';
import { killGroup, spawnGroup } from '../util/process-group.js';
import { CliError, EX_CONFIG } from './errors.js';

/** Signals record passes on to the command's group: ^C, kill, a closed SSH terminal (HUP), ^\\ (QUIT). */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

/** How a shell reports a process ended by a signal: 128 + its number. */
function signalExit(sig: NodeJS.Signals): number {
  return 128 + (osConstants.signals[sig] ?? 0);
}

/** Refuses an --output that cannot be written before the command runs (the run would be lost otherwise). */
function checkWritable(file: string): void {
  const refuse = (why: string): never => {
    throw new CliError(`--output: cannot write ${JSON.stringify(file.slice(0, 200))}: ${why}`, EX_CONFIG);
  };
  let isDir: boolean;
  try {
    isDir = statSync(file).isDirectory();
  } catch {
    // Not there yet: its directory must take a new file.
    try {
      accessSync(path.dirname(path.resolve(file)), fsConstants.W_OK | fsConstants.X_OK);
    } catch (err) {
      refuse(`its directory is not writable (${(err as Error).message})`);
    }
    return;
  }
  if (isDir) refuse('it is a directory; expected a file path');
  try {
    accessSync(file, fsConstants.W_OK);
  } catch (err) {
    refuse((err as Error).message);
  }
}

interface RecordFlags {
  json?: boolean;
  intervalMs: string;
  gpus?: boolean;
  realtime?: boolean;
  output?: string;
}

export function renderReport(
  r: BenchmarkReport,
  command: string,
  exitCode: number | null,
  signal: NodeJS.Signals | null = null,
): string {
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
    `Exit status: ${exitCode ?? `killed by ${signal ?? 'a signal'}`}`,
    `Wall time: ${(r.durationMs / 1000).toFixed(3)} s, ${r.samples} samples (interval p50 ` +
      `${(r.intervalUs.p50 ?? 0).toFixed(0)} µs, p99 ${(r.intervalUs.p99 ?? 0).toFixed(0)} µs), sampler CPU ` +
      `${r.threadCpuMs.toFixed(1)} ms`,
    // Fewer than two samples is a snapshot, not a run: say so rather than print a distribution of one.
    ...(r.samples < 2
      ? [
          r.samples === 0
            ? 'No samples: the command ended within the first interval; use a smaller --interval-ms.'
            : 'One sample: the command ended within the first interval; the figures are a single reading, ' +
              'not a distribution over its run. Use a smaller --interval-ms.',
        ]
      : readIntervalsLine(r)),
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
      if (flags.output !== undefined) checkWritable(flags.output);
      // Its own process group (detached: setsid), so a signal reaches what the command started too:
      // `sh -c 'sleep 302; ...'` killed by pid alone leaves the sleep behind.
      // Forwarding is in place before the command exists: a SIGTERM that came while spawn() or the sampler
      // started would otherwise kill record by default and leave the command's whole group running. A signal
      // caught in that window is delivered by the handler once spawn() has returned (handlers run on the loop).
      const command: { child?: ChildProcess; stoppedBy?: NodeJS.Signals } = {};
      const signalGroup = (sig: NodeJS.Signals) => {
        if (command.child) killGroup(command.child, sig);
      };
      // A handler keeps record alive to write its report; the signal that stopped it sets its exit status.
      for (const sig of FORWARDED)
        process.on(sig, () => {
          command.stoppedBy ??= sig;
          // A hung-up terminal fails writes (EIO): the report is lost there, but record still ends its command.
          if (sig === 'SIGHUP') process.stderr.on('error', () => undefined);
          signalGroup(sig);
        });
      // Whatever the command left running in its group does not outlive record (its own exit, or a crash).
      process.once('exit', () => signalGroup('SIGTERM'));
      const started = spawnGroup(argv, 'inherit');
      command.child = started;
      await new Promise<void>((resolve, reject) => {
        started.once('spawn', resolve);
        // As a shell reports it: 127 when the command is not found, 126 when it cannot be run.
        started.once('error', (e: NodeJS.ErrnoException) =>
          reject(
            new CliError(
              `record: ${capText(argv[0]!)}: ${e.code === 'ENOENT' ? 'command not found' : e.message}`,
              e.code === 'ENOENT' ? 127 : 126,
            ),
          ),
        );
      });
      const sampler = new Sampler({
        intervalUs: ms * 1000,
        signals: ['memory', 'cpu', 'psi', 'cgroup'],
        pids: [started.pid!],
        realtime: !!flags.realtime,
        ...(flags.gpus ? { gpus: 'all' as const, gpuIntervalUs: Math.max(ms * 1000, 10_000) } : {}),
      }).start();
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        started.once('exit', (c, s) => resolve([c, s])),
      );
      signalGroup('SIGTERM');
      const report = benchmarkReport(sampler.stop(), sampler.options);
      const text = flags.json
        ? JSON.stringify({ command: argv, exitCode: code, signal, ...report }, null, 2)
        : renderReport(report, argv.join(' '), code, signal);
      if (flags.output) {
        try {
          writeFileSync(flags.output, `${text}\n`);
        } catch (err) {
          // The run is not lost: the report goes to stderr instead, after a line that says why.
          process.stderr.write(
            `overnight: --output: could not write the report (${(err as Error).message}); here it is\n`,
          );
          process.stderr.write(`${text}\n`);
          process.exitCode = EX_CONFIG;
          return;
        }
      } else process.stderr.write(`${text}\n`);
      // As a shell would: stopped by a signal (record's own, or the command's) is 128 + its number.
      const stoppedBy = command.stoppedBy ?? signal;
      process.exitCode = stoppedBy ? signalExit(stoppedBy) : (code ?? 1);
    });
}
