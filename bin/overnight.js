#!/usr/bin/env node
// The `overnight` command. The CLI lives in dist/cli (built by `npm install` / `npm run build:ts`).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`overnight: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
