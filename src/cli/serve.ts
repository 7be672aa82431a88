/** `overnight serve`: the MCP server on stdio (default) or Streamable HTTP. */
import type { Command } from 'commander';
import { loadConfigOrExit } from './config-option.js';
import { createOvernightContext } from '../context.js';
import { serveOnHttp } from '../mcp/http.js';
import { serveOnStdio } from '../mcp/stdio.js';
import { capText } from '../config/validation.js';
import { CliError, EX_CONFIG } from './errors.js';
import { listenHost, port } from './flag-values.js';
import { listenError } from './listen-error.js';
import { closeHttpServer } from './serve-shutdown.js';

interface ServeFlags {
  http?: number;
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
      `--http on ${capText(host)} without server.token: anyone who can reach this port could act on the node as uid ` +
        `${process.getuid?.() ?? '?'}; set server.token (\`overnight token\` prints one) or bind 127.0.0.1`,
      EX_CONFIG,
    );
  process.stderr.write(
    `overnight: no server.token: every local user can call the tools over HTTP on ${capText(host)} (they act as uid ` +
      `${process.getuid?.() ?? '?'}); set server.token to require a bearer token\n`,
  );
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the MCP server (healthCheck, ...) on stdio, or on Streamable HTTP with --http')
    .option('--http <port>', 'serve Streamable HTTP on this port at /mcp instead of stdio', port('--http', EX_CONFIG))
    .option(
      '--host <host>',
      "address to bind with --http (default 127.0.0.1, or the configuration's server.host)",
      listenHost('--host', EX_CONFIG),
    )
    .option('--config <file>', 'configuration file (default $OVERNIGHT_CONFIG or ~/.config/overnight/config.json)')
    .action(async (flags: ServeFlags) => {
      const { config, path } = loadConfigOrExit(flags.config);
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
      const port = flags.http;
      const host = flags.host ?? config.server.host;
      let server: Awaited<ReturnType<typeof serveOnHttp>>;
      try {
        server = await serveOnHttp(context, {
          port,
          host,
          token: config.server.token,
          allowedHosts: config.server.allowedOrigins,
          maxMessageBytes: config.server.maxMessageBytes,
          maxConcurrent: config.server.maxConcurrentRequests,
          maxQueued: config.server.maxQueuedRequests,
        });
      } catch (err) {
        // The background sampler would keep the process alive: close before reporting.
        await context.close();
        throw listenError(err, {
          portFlag: '--http',
          port,
          hostFlag: flags.host !== undefined ? '--host' : 'server.host',
          host,
        });
      }
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
