/** `overnight serve` on stdio: stdout carries the protocol, so every log line goes to stderr. */
import type { JSONRPCMessage, Transport, TransportSendOptions } from '@modelcontextprotocol/server';
import { serveStdio, StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import type { OvernightContext } from '../context.js';
import { INVALID_PARAMS, INVALID_REQUEST, refusalOf, requestIdOf } from './message-guard.js';
import { lineWithNotedJson } from './result-json.js';
import { createOvernightServer } from './server.js';
import { MessageLineLimiter } from './stdio-lines.js';
import { StdioFrames } from './stdio-frames.js';

/**
 * Writes one line as the SDK's stdio transport writes a message: resolved once written (or, past
 * the stream's high-water mark, once drained), rejected on a write error.
 */
function writeLine(out: NodeJS.WritableStream, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => {
      out.off('drain', onDrain);
      reject(e);
    };
    const onDrain = () => {
      out.off('error', onError);
      resolve();
    };
    out.once('error', onError);
    if (out.write(line)) {
      out.off('error', onError);
      resolve();
    } else out.once('drain', onDrain);
  });
}

/**
 * The stdio wire with the message guard in front: a refused message is answered (or, for a
 * notification, logged) here and never reaches the SDK's connection or a tool. A tool result whose
 * JSON `ok()` already made is written with that JSON (result-json.ts); anything else goes through
 * the SDK's transport, which writes to the same stream, so lines keep their order.
 */
class GuardedTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];
  private closed = false;

  constructor(
    private readonly wire: StdioServerTransport,
    private readonly frames: StdioFrames,
    private readonly out: NodeJS.WritableStream,
  ) {}

  async start(): Promise<void> {
    this.wire.onclose = () => {
      this.closed = true;
      this.onclose?.();
    };
    this.wire.onerror = (e) => this.onerror?.(e);
    this.wire.onmessage = (message: JSONRPCMessage) => {
      const why = refusalOf(message);
      if (!why) return this.onmessage?.(message);
      const id = requestIdOf(message);
      process.stderr.write(`overnight: mcp: refused a message: ${why}\n`);
      if (id !== undefined)
        void this.wire
          .send({ jsonrpc: '2.0', id, error: { code: INVALID_PARAMS, message: why } })
          .catch((e: unknown) => this.onerror?.(e as Error));
    };
    await this.wire.start();
  }

  send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    // A batch element's answer waits for its siblings; the array goes out with the last one.
    const out = this.frames.outgoing(message);
    if (out === undefined) return Promise.resolve();
    if (out !== message) return this.wire.send(out as JSONRPCMessage);
    const line = this.closed ? undefined : lineWithNotedJson(message);
    return line === undefined ? this.wire.send(message) : writeLine(this.out, line);
  }

  close(): Promise<void> {
    this.closed = true;
    return this.wire.close();
  }
}

export interface StdioOptions {
  /** The largest message (one line) accepted; larger ones are answered with an error and skipped. */
  maxMessageBytes: number;
}

export async function serveOnStdio(context: OvernightContext, opts: StdioOptions): Promise<void> {
  // eslint-disable-next-line prefer-const -- the limiter's callback reads `wire`, which is built from the limiter below
  let wire: StdioServerTransport | undefined;
  // Answers for lines the SDK never sees (not JSON, batches, no JSON-RPC message): written directly.
  const frames = new StdioFrames((message) => {
    void wire?.send(message as JSONRPCMessage).catch(() => undefined);
  });
  const limiter = new MessageLineLimiter(
    opts.maxMessageBytes,
    ({ bytes, id }) => {
      const message =
        `message of ${bytes} bytes refused: the limit is ${opts.maxMessageBytes} bytes (server.maxMessageBytes). ` +
        'Send large data as a file path, or raise server.maxMessageBytes in the configuration.';
      process.stderr.write(
        `overnight: mcp: ${message}${id === null ? ' (no request id found; nothing to answer)' : ''}\n`,
      );
      // JSON-RPC allows a null id when the request's own id cannot be read.
      void wire
        ?.send({ jsonrpc: '2.0', id: id as string | number, error: { code: INVALID_REQUEST, message } })
        .catch(() => undefined);
    },
    (line) => frames.inspect(line),
  );
  process.stdin.pipe(limiter);
  // Lines reach the SDK whole and within the limit, so its own buffer never overflows.
  wire = new StdioServerTransport(limiter, process.stdout, { maxBufferSize: opts.maxMessageBytes + 2 });
  const handle = serveStdio(() => createOvernightServer(context), {
    transport: new GuardedTransport(wire, frames, process.stdout),
    onerror: (err) => process.stderr.write(`overnight: mcp: ${err.message}\n`),
  });
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.stdin.once('end', done);
    process.stdin.once('close', done);
    // A client that closed our stdout (its reading end) but not our stdin can never read an answer:
    // serving on would only keep the sampler running for nobody.
    process.stdout.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') done();
    });
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
  await Promise.resolve((handle as { close?: () => unknown }).close?.());
  // stdin is piped into the limiter, which the transport's close does not stop: an open stdin would
  // keep the process alive after SIGTERM (a supervisor then waits for its kill timeout).
  process.stdin.unpipe(limiter);
  process.stdin.destroy();
  await context.close();
}
