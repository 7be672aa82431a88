/** `overnight serve`: the MCP server on stdio (default) or Streamable HTTP. */
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { createOvernightContext } from '../context.js';
import { serveOnHttp } from '../mcp/http.js';
import { serveOnStdio } from '../mcp/stdio.js';
import { CliError, EX_CONFIG } from './errors.js';
import { closeHttpServer } from './serve-shutdown.js';
import { describeValue } from '../config/validation.js';

interface ServeFlags {
  http?: string;
  host?: string;
  config?: string;
}

/** 127.0.0.0/8, ::1 and localhost: reachable from this node only. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * The tools end processes, delete files and reserve space as this server's user: without a bearer
 * token, HTTP is refused on any address other hosts can reach, and on loopback the operator is told
 * that every local user can call them.
 */
function checkHttpExposure(host: string, token: string | undefined): void {
  if (token) return;
  if (!isLoopback(host))
    throw new CliError(
      `--http on ${host} without server.token: anyone who can reach this port could act on the node as uid ` +
        `${process.getuid?.() ?? '?'}; set server.token (\`overnight token\` prints one) or bind 127.0.0.1`,
      EX_CONFIG,
    );
  process.stderr.write(
    `overnight: no server.token: every local user can call the tools over HTTP on ${host} (they act as uid ` +
      `${process.getuid?.() ?? '?'}); set server.token to require a bearer token\n`,
  );
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the MCP server (healthCheck, ...) on stdio, or on Streamable HTTP with --http')
    .option('--http <port>', 'serve Streamable HTTP on this port at /mcp instead of stdio')
    .option('--host <host>', "address to bind with --http (default 127.0.0.1, or the configuration's server.host)")
    .option('--config <file>', 'configuration file (default $OVERNIGHT_CONFIG or ~/.config/overnight/config.json)')
    .action(async (flags: ServeFlags) => {
      const { config, path } = loadConfig(flags.config);
      if (flags.http !== undefined) checkHttpExposure(flags.host ?? config.server.host, config.server.token);
      const context = await createOvernightContext({ config, background: true });
      const { noScope } = context.gate.scopeOptions;
      if (noScope)
        process.stderr.write(
          `overnight: no scope for recovery: ${noScope}; every process is refused until policy.scopeRoot, ` +
            `policy.scopeUnit or policy.scopeUser is set\n`,
        );
      if (flags.http === undefined) {
        process.stderr.write(`overnight: serving MCP on stdio (config: ${path ?? 'defaults'})\n`);
        await serveOnStdio(context, { maxMessageBytes: config.server.maxMessageBytes });
        return;
      }
      const port = Number(flags.http);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new Error(`--http: got ${describeValue(flags.http)}; expected a TCP port in [0, 65535]`);
      const host = flags.host ?? config.server.host;
      const server = await serveOnHttp(context, {
        port,
        host,
        token: config.server.token,
        allowedHosts: config.server.allowedOrigins,
        maxMessageBytes: config.server.maxMessageBytes,
        maxConcurrent: config.server.maxConcurrentRequests,
        maxQueued: config.server.maxQueuedRequests,
      });
      const addr = server.address();
      const actual = typeof addr === 'object' && addr ? addr.port : port;
      process.stderr.write(
        `overnight: serving MCP on http://${host}:${actual}/mcp` +
          `${config.server.token ? ' (bearer token required)' : ''}\n`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      await closeHttpServer(server);
    });
}
