/** The `overnight` CLI: one subcommand per file, registered here. */
import { Command } from 'commander';
import { CliError } from './errors.js';
import { registerSampleCommand } from './sample.js';
import { registerServeCommand } from './serve.js';
import { registerAuditCommand } from './audit.js';
import { registerProgressCommand } from './progress.js';
import { registerResourcesCommand } from './resources.js';
import { registerRecordCommand } from './record.js';
import { registerMonitorCommand } from './monitor.js';
import { registerHealthCommand } from './health.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('overnight')
    .description('node-health agent for autonomous coding agents on GPU/HPC nodes')
    .showHelpAfterError()
    .exitOverride();
  registerSampleCommand(program);
  registerServeCommand(program);
  registerAuditCommand(program);
  registerProgressCommand(program);
  registerResourcesCommand(program);
  registerRecordCommand(program);
  registerMonitorCommand(program);
  registerHealthCommand(program);
  return program;
}

/** Runs the CLI. Returns the exit code. Errors go to stderr with a one-line reason. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (e.code?.startsWith('commander.')) {
      // commander already printed help or the usage error
      return e.exitCode ?? 2;
    }
    process.stderr.write(`overnight: ${e.message ?? String(err)}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}
