/**
 * The `overnight` CLI: one subcommand per file. Only the file of the subcommand being run is imported
 * (with its engines, zod, SQLite, the addon): this buys start-up time, which Slurm's health check
 * and NPD's plugin pay on every run and `--help` should not pay at all. The table below holds what
 * the top-level help needs without importing anything.
 */
import { readFileSync } from 'node:fs';
import { Command, type Option } from 'commander';
import { dropOutputOnClosedPipe } from './closed-pipe.js';
import { CliError, EX_CONFIG } from './errors.js';
import { subcommandWord } from './subcommand-word.js';

type Register = (program: Command) => void;

/** name, description (as in the subcommand's file; a test keeps them equal), and its lazy loader. */
export const SUBCOMMANDS: readonly { name: string; description: string; load: () => Promise<Register> }[] = [
  {
    name: 'sample',
    description: 'print one host sample: memory, CPU, load, PSI, cgroup limits, filesystems',
    load: async () => (await import('./sample.js')).registerSampleCommand,
  },
  {
    name: 'serve',
    description: 'run the MCP server (healthCheck, ...) on stdio, or on Streamable HTTP with --http',
    load: async () => (await import('./serve.js')).registerServeCommand,
  },
  {
    name: 'audit',
    description: 'show the audit log: every destructive decision (allowed or refused) and its outcome',
    load: async () => (await import('./audit.js')).registerAuditCommand,
  },
  {
    name: 'progress',
    description: 'show tasks with progress bars (JSON when not on a terminal); `progress restore` puts artifacts back',
    load: async () => (await import('./progress.js')).registerProgressCommand,
  },
  {
    name: 'resources',
    description: 'list GPU leases and memory/disk reservations; `resources release <id>` releases one',
    load: async () => (await import('./resources.js')).registerResourcesCommand,
  },
  {
    name: 'record',
    description:
      'run a command and report CPU, memory, pressure, cgroup and GPU signals over its run (to stderr), flagging ' +
      'untrustworthy conditions',
    load: async () => (await import('./record.js')).registerRecordCommand,
  },
  {
    name: 'monitor',
    description:
      'watch, recover and escalate all night: health -> recovery -> progress -> resources -> sleep (woken by ' +
      'PSI, Xids, exits, deadlines)',
    load: async () => (await import('./monitor.js')).registerMonitorCommand,
  },
  {
    name: 'health',
    description:
      'one health check; exits 1 when not healthy (0 with --exit-zero), 2 when it cannot tell; --nhc for Slurm, ' +
      '--npd for node-problem-detector',
    load: async () => (await import('./health-loader.js')).loadHealthCommand(),
  },
  {
    name: 'token',
    description: 'print a new random bearer token for server.token or $OVERNIGHT_TOKEN',
    load: async () => (await import('./token.js')).registerTokenCommand,
  },
  {
    name: 'events',
    description:
      'show the event history: kernel log lines (Xid, OOM kills, hung tasks, I/O errors, ...), GPU events, ' +
      'recoveries and boots',
    load: async () => (await import('./events.js')).registerEventsCommand,
  },
  {
    name: 'report',
    description: 'the morning report: plots of the night with its events, task progress, recoveries and alerts',
    load: async () => (await import('./report.js')).registerReportCommand,
  },
];

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** commander quotes string defaults (`(default: "full")`); show them as the user types them. */
function unquoteDefaults(cmd: Command): void {
  for (const o of cmd.options as Option[]) {
    if (typeof o.defaultValue === 'string' && o.defaultValueDescription === undefined)
      o.defaultValueDescription = o.defaultValue;
  }
  for (const sub of cmd.commands) unquoteDefaults(sub);
}

/**
 * The program with `only` registered in full and every other subcommand as a name and description
 * (enough for the top-level help and for "unknown command" suggestions). No `only`: all in full.
 */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command();
  program
    .name('overnight')
    .description('node-health agent for autonomous coding agents on GPU/HPC nodes')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError()
    .exitOverride();
  for (const s of SUBCOMMANDS) {
    if (only === undefined || s.name === only) (await s.load())(program);
    else program.command(s.name).description(s.description);
  }
  unquoteDefaults(program);
  return program;
}

/** Runs the CLI. Returns the exit code. Errors go to stderr with a one-line reason. */
export async function main(argv: string[]): Promise<number> {
  const word = subcommandWord(argv);
  const sub = SUBCOMMANDS.find((s) => s.name === word)?.name;
  const program = await buildProgram(sub ?? '');
  // `serve` owns stdout on stdio (the MCP wire) and handles a client that left itself.
  if (sub !== 'serve') dropOutputOnClosedPipe(process.stdout);
  dropOutputOnClosedPipe(process.stderr);
  if (argv.length === 0) {
    // Bare `overnight`: the help, and success (commander would print it on stderr and exit 1).
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (e.code?.startsWith('commander.')) {
      // commander already printed help, the version or the usage error. A usage error (unknown option,
      // missing value, extra argument) is not commander's 1: for `health` that means "not healthy" (Slurm
      // would drain the node over a typo), so it is 2, "cannot tell"; for the daemons it is a configuration
      // error, 78, which their systemd unit does not restart.
      if (e.exitCode === 0) return 0;
      return sub === 'monitor' || sub === 'serve' ? EX_CONFIG : 2;
    }
    process.stderr.write(`overnight: ${e.message ?? String(err)}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}
