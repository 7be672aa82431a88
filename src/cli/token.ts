/** `overnight token`: a bearer token for server.token / OVERNIGHT_TOKEN (32 random bytes, base64url). */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';

export function registerTokenCommand(program: Command): void {
  program
    .command('token')
    .description('print a new random bearer token for server.token or $OVERNIGHT_TOKEN')
    .action(() => {
      process.stdout.write(`${randomBytes(32).toString('base64url')}\n`);
    });
}
