/**
 * What arrives on the stdio wire before it is a single JSON-RPC message: a line that is not JSON,
 * a batch (a JSON array), or JSON that is no JSON-RPC message. The SDK's stdio transport skips
 * the first silently and drops the others with a log line, so the client waits for an answer that
 * never comes. Here each gets one: -32700 Parse error, or -32600 Invalid Request naming what is
 * wrong, and the server keeps serving.
 *
 * Batches: MCP 2025-03-26 made servers accept JSON-RPC batches and 2025-06-18 removed them. On a
 * connection that negotiated 2025-03-26 or older, a batch's elements are served one by one and
 * their answers go back as one array (as the HTTP transport answers); on a newer one (or before
 * initialize) the batch is refused as a whole with -32600. A request cancelled by the client
 * (notifications/cancelled) gets no answer from the SDK, so it drops out of its batch; a batch
 * still unanswered after BATCH_WAIT_MS is answered with what it has. Runs on the main thread.
 */
import {
  LATEST_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  type JSONRPCMessage,
} from '@modelcontextprotocol/server';
import { capText } from '../config/validation.js';
import { batchesAllowed, batchRefusal } from './batch-rule.js';
import {
  answerableId,
  envelopeProblem,
  INVALID_PARAMS,
  INVALID_REQUEST,
  refusalOf,
  requestIdOf,
} from './message-guard.js';

export const PARSE_ERROR = -32700;
export const INTERNAL_ERROR = -32603;

/**
 * How long a batch's answers are held for its slowest element. Longer than any request this
 * server serves may take (the longest tool timeout is an hour), so it fires only for an element
 * the SDK will never answer; then the client gets the rest instead of nothing, and the held
 * answers are freed. A late answer after that goes out on its own line.
 */
export const BATCH_WAIT_MS = 3_660_000;

type Id = string | number;
type ErrorAnswer = { jsonrpc: '2.0'; id: Id | null; error: { code: number; message: string } };

const errorAnswer = (id: Id | null, code: number, message: string): ErrorAnswer => ({
  jsonrpc: '2.0',
  id,
  error: { code, message },
});

interface PendingBatch {
  /** Request ids still to be answered (a count each: a careless batch may repeat one). */
  waiting: Map<Id, number>;
  answers: unknown[];
  /** Fires after BATCH_WAIT_MS; cleared when the batch is answered. */
  timer?: NodeJS.Timeout;
}

/**
 * One per stdio connection. `inspect` is handed each whole line before the SDK reads it and
 * returns the lines the SDK may read; `outgoing` is handed each message the server sends and
 * returns what to write (a batch's answers are held until the last one is ready).
 */
export class StdioFrames {
  private version: string | undefined;
  private readonly batches: PendingBatch[] = [];

  /** `reply` writes one answer (or a batch's array of answers) to the client. */
  constructor(
    private readonly reply: (message: unknown) => void,
    private readonly batchWaitMs = BATCH_WAIT_MS,
  ) {}

  /** Batches waiting for answers (for tests: none may stay once every element is answered). */
  get pendingBatches(): number {
    return this.batches.length;
  }

  /** Lines (each ending in "\n") for the SDK: the line itself, a batch's elements, or none. */
  inspect(line: Buffer): Buffer[] {
    const text = line.toString('utf8').replace(/\r?\n$/, '');
    // A whitespace-only line is as empty as an empty one (which never reaches here): nothing to answer.
    if (!text.trim()) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      this.refuse(
        null,
        PARSE_ERROR,
        `parse error: ${capText((e as Error).message, 120)}; send one JSON-RPC message per line`,
      );
      return [];
    }
    if (Array.isArray(parsed)) return this.batch(parsed);
    const why = envelopeProblem(parsed);
    if (why) {
      this.refuse(answerableId(parsed), INVALID_REQUEST, `invalid request: ${why}`);
      return [];
    }
    this.noteInitialize(parsed);
    this.noteCancel(parsed);
    return [line[line.length - 1] === 10 ? line : Buffer.concat([line, Buffer.from('\n')])];
  }

  /** What to write for a message the server sends; undefined while it waits in a batch. */
  outgoing(message: JSONRPCMessage): unknown {
    const m = message as {
      id?: unknown;
      method?: unknown;
      result?: { protocolVersion?: unknown; serverInfo?: unknown };
    };
    // The initialize answer carries the negotiated version (the one thing a server sends with serverInfo).
    if (m.result && typeof m.result.protocolVersion === 'string' && m.result.serverInfo)
      this.version = m.result.protocolVersion;
    if (m.method !== undefined || (typeof m.id !== 'string' && typeof m.id !== 'number')) return message;
    const batch = this.batches.find((b) => b.waiting.has(m.id as Id));
    if (!batch) return message;
    this.collect(batch, m.id, message);
    return undefined;
  }

  /**
   * The version the server will answer initialize with (the client's if supported, else the
   * latest), known as the request passes: a batch right behind it is judged by it, not by the
   * absence of an answer still being built. `outgoing` confirms it from the answer.
   */
  private noteInitialize(m: unknown): void {
    const { method, params } = m as { method?: unknown; params?: { protocolVersion?: unknown } };
    if (method !== 'initialize') return;
    const asked = params?.protocolVersion;
    this.version =
      typeof asked === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(asked) ? asked : LATEST_PROTOCOL_VERSION;
  }

  /**
   * A cancelled request gets no answer from the SDK (it drops the handler's result), so a batch
   * waiting for it stops waiting; it is answered now if that was its last outstanding element.
   * `current` is a batch being read, not yet pending (its own elements may cancel each other).
   */
  private noteCancel(m: unknown, current?: PendingBatch): void {
    const { method, params } = m as { method?: unknown; params?: { requestId?: unknown } };
    const id = params?.requestId;
    if (method !== 'notifications/cancelled' || (typeof id !== 'string' && typeof id !== 'number')) return;
    const batch = this.batches.find((b) => b.waiting.has(id)) ?? (current?.waiting.has(id) ? current : undefined);
    if (!batch) return;
    const left = batch.waiting.get(id)! - 1;
    if (left > 0) batch.waiting.set(id, left);
    else batch.waiting.delete(id);
    if (batch !== current && !batch.waiting.size) this.finish(batch);
  }

  private refuse(id: Id | null, code: number, message: string): void {
    logRefusal(message);
    this.reply(errorAnswer(id, code, message));
  }

  private batch(elements: unknown[]): Buffer[] {
    if (!elements.length) {
      this.refuse(null, INVALID_REQUEST, 'invalid request: an empty JSON-RPC batch');
      return [];
    }
    if (!batchesAllowed(this.version)) {
      this.refuse(null, INVALID_REQUEST, batchRefusal(this.version));
      return [];
    }
    const batch: PendingBatch = { waiting: new Map(), answers: [] };
    const lines: Buffer[] = [];
    for (const e of elements) {
      // Each element gets the checks a single message gets; a bad one is answered inside the array.
      // A refused element is logged as a refused single message is.
      const why = envelopeProblem(e);
      if (why) {
        logRefusal(`invalid request: ${why}`);
        batch.answers.push(errorAnswer(answerableId(e), INVALID_REQUEST, `invalid request: ${why}`));
        continue;
      }
      const method = (e as { method?: unknown }).method;
      const id = requestIdOf(e);
      if (method === 'initialize') {
        // JSON-RPC batching in MCP 2025-03-26: "The initialize request MUST NOT be part of a batch".
        const message = 'invalid request: initialize must be sent alone, not inside a JSON-RPC batch';
        logRefusal(message);
        if (id !== undefined) batch.answers.push(errorAnswer(id, INVALID_REQUEST, message));
        continue;
      }
      const refusal = refusalOf(e);
      if (refusal) {
        logRefusal(refusal);
        if (id !== undefined) batch.answers.push(errorAnswer(id, INVALID_PARAMS, refusal));
        continue;
      }
      if (id !== undefined && typeof method === 'string') batch.waiting.set(id, (batch.waiting.get(id) ?? 0) + 1);
      else this.noteCancel(e, batch);
      lines.push(Buffer.from(`${JSON.stringify(e)}\n`));
    }
    if (batch.waiting.size) {
      this.batches.push(batch);
      batch.timer = setTimeout(() => this.expire(batch), this.batchWaitMs);
      batch.timer.unref(); // a held batch never keeps the process alive
    } else if (batch.answers.length) this.reply(batch.answers); // only notifications, refusals and cancels
    return lines;
  }

  private collect(batch: PendingBatch, id: Id, message: unknown): void {
    batch.answers.push(message);
    const left = (batch.waiting.get(id) ?? 1) - 1;
    if (left > 0) batch.waiting.set(id, left);
    else batch.waiting.delete(id);
    if (!batch.waiting.size) this.finish(batch);
  }

  /** The batch leaves the pending list and its answers go out (JSON-RPC: none when there are none). */
  private finish(batch: PendingBatch): void {
    clearTimeout(batch.timer);
    this.batches.splice(this.batches.indexOf(batch), 1);
    if (batch.answers.length) this.reply(batch.answers);
  }

  /** BATCH_WAIT_MS passed: each element still unanswered gets -32603, and the batch is answered. */
  private expire(batch: PendingBatch): void {
    if (!this.batches.includes(batch)) return;
    const message = `no answer within ${Math.round(this.batchWaitMs / 1000)} s; the batch was answered without it`;
    const ids = [...batch.waiting.keys()].slice(0, 8).map((id) => capText(String(id), 40));
    process.stderr.write(`overnight: mcp: batch element(s) ${ids.join(', ')}: ${message}\n`);
    for (const [id, n] of batch.waiting)
      for (let i = 0; i < n; i++) batch.answers.push(errorAnswer(id, INTERNAL_ERROR, message));
    batch.waiting.clear();
    this.finish(batch);
  }
}

function logRefusal(message: string): void {
  process.stderr.write(`overnight: mcp: refused a message: ${message}\n`);
}
