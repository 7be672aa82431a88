/**
 * The fast lane of `serve --http` for the commonest 2025-era request: one JSON-RPC request (a
 * tools/call, tools/list, ping, ...) POSTed without a session and without asking for progress.
 *
 * The SDK's stateless leg builds a web Request from the Node request, a transport per request,
 * connects a server to it, answers through a web Response and closes both again (the close alone
 * builds an SdkError with a stack trace). A CPU profile of 100 plain keep-alive clients showed
 * that bookkeeping around a quarter of the server's CPU per quick call. Here one server, connected
 * once to one long-lived transport, serves every such request: each request's id is swapped for
 * a unique one on the way in (clients all start at id 1) and swapped back on the way out, and the
 * answer is written straight to the Node response.
 *
 * Only requests the SDK would serve the same way take this lane (checked in `fastLaneMessage`);
 * anything else (initialize, notifications, batches, progress, bad headers, malformed messages)
 * goes to the SDK's path unchanged, so its answers and errors stay the SDK's. Main thread only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  classifyInboundRequest,
  isJsonContentType,
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  SUPPORTED_PROTOCOL_VERSIONS,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type McpServer,
  type RequestId,
  type Transport,
  type TransportSendOptions,
} from '@modelcontextprotocol/server';

/** One request waiting for its response: the client's own id and where to write the answer. */
interface Pending {
  clientId: RequestId;
  res: ServerResponse;
}

/**
 * A transport that never closes: each `deliver` hands one request to the connected server under a
 * fresh id, and `send` writes the matching response to that request's HTTP response.
 */
class SharedStatelessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  supportedVersions: readonly string[] = SUPPORTED_PROTOCOL_VERSIONS;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  async start(): Promise<void> {}

  setSupportedProtocolVersions(versions: string[]): void {
    this.supportedVersions = versions;
  }

  /** Requests in flight (for tests and the benchmark: none may stay after their response). */
  get inFlight(): number {
    return this.pending.size;
  }

  deliver(message: JSONRPCRequest, res: ServerResponse): void {
    const id = this.nextId++;
    this.pending.set(id, { clientId: message.id, res });
    // A client that hangs up before its answer cancels the handler, as a session's would.
    res.once('close', () => {
      if (!this.pending.delete(id)) return;
      this.onmessage?.({
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: id, reason: 'the HTTP client closed the connection' },
      });
    });
    this.onmessage?.({ ...message, id });
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      const id = message.id as number;
      const p = this.pending.get(id);
      if (!p) return; // the client has gone
      this.pending.delete(id);
      const body = JSON.stringify({ ...message, id: p.clientId });
      p.res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      p.res.end(body);
      return;
    }
    // One JSON body carries nothing but the result: notifications are dropped, as the SDK's
    // JSON-response mode does, and a request to the client cannot be delivered at all.
    if (isJSONRPCRequest(message))
      throw new Error(
        `cannot send ${message.method} to a stateless HTTP client (request ${String(options?.relatedRequestId)})`,
      );
  }

  async close(): Promise<void> {
    for (const { res } of this.pending.values()) if (!res.headersSent) res.writeHead(503).end();
    this.pending.clear();
    this.onclose?.();
  }
}

/**
 * Methods whose answer depends on nothing but the request. initialize, logging/setLevel and
 * resources/(un)subscribe set per-client state on the server that answers them: they keep a
 * server of their own on the SDK's path, as does anything this list does not name.
 */
const LANE_METHODS = new Set([
  'tools/call',
  'tools/list',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'ping',
]);

/**
 * The message when this POST can take the fast lane, else undefined. Mirrors the checks of the
 * SDK's stateless transport (Accept, Content-Type, protocol version header, a valid JSON-RPC
 * request) so that whatever it would refuse goes to it and is refused in its words.
 */
export function fastLaneMessage(
  req: IncomingMessage,
  body: unknown,
  versions: readonly string[] = SUPPORTED_PROTOCOL_VERSIONS,
): JSONRPCRequest | undefined {
  if (Array.isArray(body) || !isJSONRPCRequest(body)) return undefined;
  if (!LANE_METHODS.has(body.method) || body.params?._meta?.progressToken !== undefined) return undefined;
  const accept = req.headers.accept ?? '';
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) return undefined;
  if (!isJsonContentType(req.headers['content-type'] ?? null)) return undefined;
  const version = req.headers['mcp-protocol-version'];
  if (typeof version === 'string' && !versions.includes(version)) return undefined;
  const header = (name: string) => {
    const v = req.headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  const route = classifyInboundRequest({
    httpMethod: 'POST',
    protocolVersionHeader: header('mcp-protocol-version'),
    mcpMethodHeader: header('mcp-method'),
    mcpNameHeader: header('mcp-name'),
    body,
  });
  return route.kind === 'legacy' ? body : undefined;
}

/** The lane: one server, connected once; `serve` answers one eligible request on it. */
export class StatelessLane {
  private readonly transport = new SharedStatelessTransport();
  private connected: Promise<void> | undefined;

  constructor(private readonly server: McpServer) {}

  get inFlight(): number {
    return this.transport.inFlight;
  }

  /** The message when this request may take the lane (see fastLaneMessage), else undefined. */
  accepts(req: IncomingMessage, body: unknown): JSONRPCRequest | undefined {
    return fastLaneMessage(req, body, this.transport.supportedVersions);
  }

  async serve(message: JSONRPCRequest, res: ServerResponse): Promise<void> {
    this.connected ??= this.server.connect(this.transport);
    await this.connected;
    this.transport.deliver(message, res);
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
