/**
 * The `--config` a subcommand was given. commander hands an option to the command that declares
 * it nearest the root: in `overnight progress restore T --config F` the `progress` command takes
 * `--config` (it declares one too), so the subcommand's own flags never see it. Look from the
 * command itself up through its parents and take the first that was given.
 */
import type { Command } from 'commander';

export function configFileOf(command: Command): string | undefined {
  for (let c: Command | null = command; c; c = c.parent) {
    const v = c.opts<{ config?: unknown }>().config;
    if (typeof v === 'string') return v;
  }
  return undefined;
}
