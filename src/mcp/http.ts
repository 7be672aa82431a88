/**
 * `overnight serve --http PORT`: Streamable HTTP, bound to 127.0.0.1 unless told otherwise,
 * with Host and Origin validation (DNS rebinding) and a bearer token when one is configured.
 */
import { createServer, type Server } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { hostHeaderValidation, originValidation, toNodeHandler } from '@modelcontextprotocol/node';
import type { OvernightContext } from './context.js';
import { createOvernightServer } from './server.js';

export interface HttpOptions {
  port: number;
  host?: string;
  /** Required as "Authorization: Bearer <token>" when set. */
  token?: string | undefined;
  /** Extra Host/Origin hostnames to accept (the bind host and localhost always are). */
  allowedHosts?: string[];
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1]!.trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function serveOnHttp(context: OvernightContext, opts: HttpOptions): Promise<Server> {
  const host = opts.host ?? '127.0.0.1';
  const names = ['localhost', '127.0.0.1', '[::1]', ...(host.includes(':') ? [`[${host}]`] : [host]), ...(opts.allowedHosts ?? [])];
  const checkHost = hostHeaderValidation(names);
  const checkOrigin = originValidation(names);
  const mcp = createMcpHandler(() => createOvernightServer(context), {
    onerror: (err) => process.stderr.write(`overnight: mcp http: ${err.message}\n`),
  });
  const handle = toNodeHandler(mcp, { onerror: (err) => process.stderr.write(`overnight: mcp http: ${err.message}\n`) });
  const server = createServer((req, res) => {
    if (!checkHost(req, res)) return;
    if (req.headers.origin && !checkOrigin(req, res)) return;
    if (opts.token && !tokenMatches(req.headers.authorization, opts.token)) {
      res.writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer realm="overnight"' });
      res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'missing or wrong bearer token' }, id: null }));
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/mcp') {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('overnight-ops: the MCP endpoint is /mcp\n');
      return;
    }
    void handle(req, res).catch((err: Error) => {
      process.stderr.write(`overnight: mcp http: ${err.message}\n`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  server.on('close', () => void context.close());
  return server;
}
