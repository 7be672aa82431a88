/**
 * `overnight serve --http PORT`: Streamable HTTP, bound to 127.0.0.1 unless told otherwise,
 * with Host and Origin validation (DNS rebinding; the Origin's scheme, host and port must be this
 * server's), a bearer token when one is configured, a bound on concurrent requests (503 with
 * Retry-After past the queue), and the same message checks as stdio (size, nesting depth).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import {
  createMcpHandler,
  isLegacyRequest,
  LATEST_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  validateHostHeader,
} from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { describeValue } from '../config/validation.js';
import type { OvernightContext } from '../context.js';
import { RequestGate } from './http-gate.js';
import { legacyJsonFirst } from './http-legacy.js';
import { originCheck, type OriginCheck } from './http-origin.js';
import {
  answerableId,
  envelopeProblem,
  INVALID_PARAMS,
  INVALID_REQUEST,
  refusalOf,
  requestIdOf,
} from './message-guard.js';
import { batchRefusal, headerRefusesBatches } from './batch-rule.js';
import { createOvernightServer } from './server.js';
import { ServerPool } from './server-pool.js';
import { StatelessLane } from './http-stateless.js';

export interface HttpOptions {
  port: number;
  host?: string;
  /** Required as "Authorization: Bearer <token>" when set. */
  token?: string | undefined;
  /** Extra Host/Origin hostnames (or full origins) to accept (the bind host and localhost always are). */
  allowedHosts?: string[];
  /** Largest request body in bytes (default 10 MiB, as on stdio). */
  maxMessageBytes?: number;
  /** Requests served at once (default 16). */
  maxConcurrent?: number;
  /** Requests waiting for a slot before new ones get 503 (default 256). */
  maxQueued?: number;
  /** Seconds a client refused with 503 is asked to wait (Retry-After; default 1). */
  retryAfterSec?: number;
  /** Milliseconds a client has to send its request headers, and then its body (408 past it; default 10 s). */
  bodyTimeoutMs?: number;
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1]!.trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function jsonError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  id: string | number | null = null,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id }));
}

type BodyRead = { body: string } | { refused: 'large' | 'slow' | 'gone' };

/**
 * Reads a request body of at most `max` bytes within `timeoutMs`. Runs before the request takes a
 * concurrency slot, so a client that announces a body and never sends it holds no slot, and is cut
 * off after the timeout instead of Node's 300 s requestTimeout.
 */
function readBody(req: IncomingMessage, max: number, timeoutMs: number): Promise<BodyRead> {
  return new Promise((resolve) => {
    if (Number(req.headers['content-length'] ?? 0) > max) {
      req.resume();
      resolve({ refused: 'large' });
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (r: BodyRead): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      resolve(r);
    };
    const timer = setTimeout(() => finish({ refused: 'slow' }), timeoutMs);
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= max) parts.push(chunk);
      else {
        finish({ refused: 'large' });
        req.resume();
      }
    };
    req.on('data', onData);
    req.once('end', () => finish({ body: Buffer.concat(parts).toString('utf8') }));
    req.once('error', () => finish({ refused: 'gone' }));
    req.once('close', () => finish({ refused: 'gone' }));
  });
}

export async function serveOnHttp(
  context: OvernightContext,
  opts: HttpOptions,
): Promise<Server & { pool: ServerPool; lane: StatelessLane }> {
  const host = opts.host ?? '127.0.0.1';
  const maxBytes = opts.maxMessageBytes ?? 10 * 1024 * 1024;
  const extra = opts.allowedHosts ?? [];
  const names = ['localhost', '127.0.0.1', '[::1]', ...(host.includes(':') ? [`[${host}]`] : [host])];
  const hostnames = [...names, ...extra.filter((e) => !e.includes('://'))];
  // The SDK's own guard (hostHeaderValidation) echoes the Host header whole in its 403 body.
  const checkHost = (req: IncomingMessage, res: ServerResponse): boolean => {
    const r = validateHostHeader(req.headers.host, hostnames);
    if (r.ok) return true;
    const got = r.hostname ?? r.hostHeader;
    const why = got === undefined ? 'missing Host header' : `Host ${describeValue(got)} is not this server`;
    jsonError(res, 403, -32000, `${why}; allowed hostnames: ${hostnames.join(', ')} (server.allowedOrigins)`);
    return false;
  };
  let checkOrigin: OriginCheck = () => 'the server is not listening yet';
  const gate = new RequestGate(opts.maxConcurrent ?? 16, opts.maxQueued ?? 256);
  const retryAfter = String(opts.retryAfterSec ?? 1);
  const bodyTimeoutMs = opts.bodyTimeoutMs ?? 10_000;
  const onerror = (err: Error) => process.stderr.write(`overnight: mcp http: ${err.message}\n`);
  // One pool of server instances for every request: built once, reused after each exchange.
  const pool = new ServerPool(() => createOvernightServer(context));
  // The modern (2026-07-28) leg is the SDK's; 2025-era requests go to our stateless leg, which
  // answers with one JSON body unless progress was asked for (see http-legacy.ts).
  const modern = createMcpHandler(() => pool.take(), { onerror, maxRequestBodySize: maxBytes, legacy: 'reject' });
  const legacy = legacyJsonFirst(() => pool.take(), onerror, maxBytes);
  // Plain 2025-era requests (one request, no session, no progress) skip all of the above.
  const lane = new StatelessLane(createOvernightServer(context));
  const handle = toNodeHandler(
    {
      fetch: async (request, options) =>
        (await isLegacyRequest(request, options?.parsedBody, { maxRequestBodySize: maxBytes }))
          ? legacy(request, options)
          : modern.fetch(request, options),
    },
    { onerror, maxRequestBodySize: maxBytes },
  );

  /** Runs once the request holds a slot (a POST's body was read before): body checks, then the SDK's handler. */
  async function serve(
    req: IncomingMessage,
    res: ServerResponse,
    release: () => void,
    body: string | undefined,
  ): Promise<void> {
    // GET/DELETE (stream resumption, session end) and long-lived subscription streams cost nothing
    // while idle: they give their slot back at once, so 16 open streams cannot starve tool calls.
    if (body === undefined) {
      release();
      return handle(req, res);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (e) {
      jsonError(res, 400, -32700, `parse error: ${(e as Error).message.slice(0, 120)}`);
      return;
    }
    // Without the header, Streamable HTTP assumes 2025-03-26 (which has batches), as the SDK does.
    const version = req.headers['mcp-protocol-version'];
    if (Array.isArray(parsed) && parsed.length && typeof version === 'string' && headerRefusesBatches(version)) {
      jsonError(res, 400, INVALID_REQUEST, batchRefusal(version, 'send one message per request'), null);
      return;
    }
    const messages: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
    // The envelope checks stdio makes, in its words (the SDK's own says only "not a valid JSON-RPC message").
    for (const [i, m] of messages.entries()) {
      const why = envelopeProblem(m);
      if (why) {
        const where = Array.isArray(parsed) ? `batch element ${i}: ` : '';
        jsonError(res, 400, INVALID_REQUEST, `invalid request: ${where}${why}`, answerableId(m));
        return;
      }
    }
    for (const m of messages) {
      const why = refusalOf(m);
      if (why) {
        jsonError(res, 400, INVALID_PARAMS, why, requestIdOf(m) ?? null);
        return;
      }
    }
    const plain = lane.accepts(req, parsed);
    // The slot is released when the response closes (see admit).
    if (plain) return lane.serve(plain, res);
    if (!Array.isArray(parsed) && (parsed as { method?: unknown } | null)?.method === 'subscriptions/listen') release();
    return handle(req, res, parsed);
  }

  const server = createServer((req, res) => {
    admit(req, res).catch((err: unknown) => {
      onerror(err as Error);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  // Headers have the same bound as a body (Node's default is 60 s).
  server.headersTimeout = bodyTimeoutMs;
  // Idle keep-alive connections live 60 s, not Node's 5 s. Clients close theirs first (undici after
  // the server's hint less 1 s); at 5 s, a client whose event loop lagged over a second under load
  // sent its next call on a socket this server was closing ("other side closed"): 92 of 1000 SDK
  // calls failed so on the loaded 2-core VM once the fast lane made sockets idle between calls.
  server.keepAliveTimeout = 60_000;

  async function admit(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!checkHost(req, res)) return;
    const origin = req.headers.origin;
    if (origin !== undefined) {
      const why = checkOrigin(origin);
      if (why) {
        jsonError(res, 403, -32000, why);
        return;
      }
    }
    if (opts.token && !tokenMatches(req.headers.authorization, opts.token)) {
      jsonError(res, 401, -32001, 'missing or wrong bearer token', null, {
        'WWW-Authenticate': 'Bearer realm="overnight"',
      });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/mcp') {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('overnight-ops: the MCP endpoint is /mcp\n');
      return;
    }
    // A protocol version is a date; anything else would be echoed whole by the SDK's refusal (and its log).
    const version = req.headers['mcp-protocol-version'];
    if (typeof version === 'string' && !/^\d{4}-\d{2}-\d{2}$/.test(version)) {
      jsonError(
        res,
        400,
        INVALID_REQUEST,
        `MCP-Protocol-Version: got ${describeValue(version)}; expected a protocol version date such as ` +
          `${LATEST_PROTOCOL_VERSION} (supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`,
        null,
      );
      return;
    }
    let body: string | undefined;
    if (req.method === 'POST') {
      const read = await readBody(req, maxBytes, bodyTimeoutMs);
      if ('refused' in read) {
        if (read.refused === 'large')
          jsonError(
            res,
            413,
            -32600,
            `request body over the limit of ${maxBytes} bytes (server.maxMessageBytes); send large data as a ` +
              `file path, or raise server.maxMessageBytes`,
            null,
            { Connection: 'close' },
          );
        else if (read.refused === 'slow') {
          // The rest of the body may never come: answer, then drop the connection.
          res.once('finish', () => req.socket.destroy());
          jsonError(res, 408, -32000, `request body not received within ${bodyTimeoutMs} ms`, null, {
            Connection: 'close',
          });
        }
        return;
      }
      body = read.body;
    }
    const slot = gate.enter();
    if (!slot) {
      req.resume();
      const { active, waiting } = gate.load;
      jsonError(
        res,
        503,
        -32000,
        `server busy: ${active} requests running and ${waiting} waiting (server.maxConcurrentRequests, ` +
          `server.maxQueuedRequests); retry after ${retryAfter} s`,
        null,
        { 'Retry-After': retryAfter },
      );
      return;
    }
    await slot.then(async (release) => {
      // A client that gave up while queued frees its slot without being served.
      if (res.destroyed) {
        release();
        return;
      }
      res.once('close', release);
      try {
        await serve(req, res, release, body);
      } catch (err) {
        onerror(err as Error);
        if (!res.headersSent) res.writeHead(500).end();
      }
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  }).catch(async (err: unknown) => {
    // Not listening: 'close' below never fires; the caller closes the context and reports the flag.
    await lane.close().catch(() => undefined);
    throw err;
  });
  const addr = server.address();
  checkOrigin = originCheck(names, typeof addr === 'object' && addr ? addr.port : opts.port, extra);
  server.on('close', () => {
    void lane.close().catch(() => undefined);
    void context.close();
  });
  return Object.assign(server, { pool, lane });
}
