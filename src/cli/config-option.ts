/**
 * The `--config` a subcommand was given. commander hands an option to the command that declares
 * it nearest the root: in `overnight progress restore T --config F` the `progress` command takes
 * `--config` (it declares one too), so the subcommand's own flags never see it. Look from the
 * command itself up through its parents and take the first that was given.
 */
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { CliError, EX_CONFIG } from './errors.js';

export function configFileOf(command: Command): string | undefined {
  for (let c: Command | null = command; c; c = c.parent) {
    const v = c.opts<{ config?: unknown }>().config;
    if (typeof v === 'string') return v;
  }
  return undefined;
}

/** A configuration error is EX_CONFIG: systemd's RestartPreventExitStatus=78 stops the restart loop. */
export function loadConfigOrExit(file: string | undefined): ReturnType<typeof loadConfig> {
  // A directory would surface as a bare EISDIR without the path.
  if (file !== undefined && statSync(file, { throwIfNoEntry: false })?.isDirectory())
    throw new CliError(`--config ${file}: is a directory; expected a JSON configuration file`, EX_CONFIG);
  try {
    return loadConfig(file);
  } catch (err) {
    throw new CliError((err as Error).message, EX_CONFIG);
  }
}
