/** `overnight serve` on stdio: stdout carries the protocol, so every log line goes to stderr. */
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import type { OvernightContext } from './context.js';
import { createOvernightServer } from './server.js';

export async function serveOnStdio(context: OvernightContext): Promise<void> {
  const handle = serveStdio(() => createOvernightServer(context), {
    onerror: (err) => process.stderr.write(`overnight: mcp: ${err.message}\n`),
  });
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.stdin.once('end', done);
    process.stdin.once('close', done);
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
  await Promise.resolve((handle as { close?: () => unknown }).close?.());
  await context.close();
}
