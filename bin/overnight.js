#!/usr/bin/env node
// The `overnight` command. The CLI lives in dist/cli (built by `npm install` / `npm run build:ts`).
// The daemon's V8 flags are set first, before the CLI's modules are evaluated (see src/cli/daemon-tuning.ts);
// the other subcommands load nothing for them (node:v8 alone costs a one-shot `health --nhc` tens of ms).
import { subcommandWord } from '../dist/cli/subcommand-word.js';

if (subcommandWord(process.argv.slice(2)) === 'monitor')
  (await import('../dist/cli/daemon-tuning.js')).applyDaemonV8Flags(process.argv.slice(2));
const { main } = await import('../dist/cli/main.js');

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`overnight: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
