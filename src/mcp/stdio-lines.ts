/**
 * Splits stdin into newline-delimited JSON-RPC messages of at most `maxBytes` each, before the
 * SDK's transport sees them. The SDK's own read buffer gives up on anything over its limit by
 * closing the transport — the server then exits 0 and a runner that restarts only on failure
 * leaves the agent without its tools. Here an oversize line is skipped as it streams past (never
 * held in memory whole) and reported with the request id found in its first or last bytes, so
 * the caller gets an error for that request and the server stays up.
 */
import { Transform, type TransformCallback } from 'node:stream';

export interface OversizeMessage {
  /** Bytes in the refused line (without its newline). */
  bytes: number;
  /** The top-level JSON-RPC id, when it could be read from the line's first or last bytes. */
  id: string | number | null;
}

/** How much of a refused line is kept to find its id: the SDK client writes the id last. */
const KEEP = 1024;

export class MessageLineLimiter extends Transform {
  private parts: Buffer[] = [];
  private size = 0;
  private dropping = false;
  private head: Buffer = Buffer.alloc(0);
  private tail: Buffer = Buffer.alloc(0);

  /**
   * `inspect`, when given, sees each whole line within the limit and returns the lines to pass on
   * (none, the line, or several: see stdio-frames.ts).
   */
  constructor(
    private readonly maxBytes: number,
    private readonly onOversize: (m: OversizeMessage) => void,
    private readonly inspect?: (line: Buffer) => Buffer[],
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl === -1) {
        if (start < chunk.length) this.accept(chunk.subarray(start));
        break;
      }
      this.accept(chunk.subarray(start, nl));
      this.endLine();
      start = nl + 1;
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (this.dropping || this.size) this.endLine();
    cb();
  }

  private accept(piece: Buffer): void {
    if (!piece.length) return;
    if (this.dropping) {
      this.size += piece.length;
      this.tail = Buffer.concat([this.tail, piece]).subarray(-KEEP);
      return;
    }
    if (this.size + piece.length <= this.maxBytes) {
      this.parts.push(piece);
      this.size += piece.length;
      return;
    }
    // Over the limit: keep only the first and last bytes from here on.
    const sofar = Buffer.concat([...this.parts, piece]);
    this.head = sofar.subarray(0, KEEP);
    this.tail = sofar.subarray(-KEEP);
    this.parts = [];
    this.size += piece.length;
    this.dropping = true;
  }

  private endLine(): void {
    if (this.dropping) {
      this.onOversize({ bytes: this.size, id: idOf(this.head.toString('utf8'), this.tail.toString('utf8')) });
      this.dropping = false;
      this.head = this.tail = Buffer.alloc(0);
    } else if (this.size) {
      const line = Buffer.concat([...this.parts, Buffer.from('\n')]);
      if (!this.inspect) this.push(line);
      else for (const out of this.inspect(line)) this.push(out);
    }
    this.parts = [];
    this.size = 0;
  }
}

const JSON_STRING = /^"(?:[^"\\]|\\.)*"/;
const SCALAR = /^(-?\d+(?:\.\d+)?|"(?:[^"\\]|\\.)*")/;

function parseScalar(text: string): string | number | null {
  const m = SCALAR.exec(text);
  if (!m) return null;
  try {
    const v = JSON.parse(m[1]!) as unknown;
    return typeof v === 'string' || typeof v === 'number' ? v : null;
  } catch {
    return null;
  }
}

/** The top-level "id" of a JSON object from its first bytes (scanned) or its last (trailing members). */
export function idOf(head: string, tail: string): string | number | null {
  let depth = 0;
  for (let i = 0; i < head.length; i++) {
    const c = head[i]!;
    if (c === '"') {
      const s = JSON_STRING.exec(head.slice(i, i + 300));
      if (!s) break; // a string running past what we kept
      const after = head.slice(i + s[0].length).replace(/^\s*/, '');
      if (depth === 1 && s[0] === '"id"' && after.startsWith(':')) return parseScalar(after.slice(1).trimStart());
      i += s[0].length - 1;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  // Members after the big one: `..., "jsonrpc": "2.0", "id": 7}` — strip scalar members from the end.
  let rest = tail.replace(/\}\s*$/, '');
  if (rest === tail) return null;
  const member = /,\s*("(?:[^"\\]|\\.)*")\s*:\s*(-?\d+(?:\.\d+)?|"(?:[^"\\]|\\.)*"|true|false|null)\s*$/;
  for (let n = 0; n < 8; n++) {
    const m = member.exec(rest);
    if (!m) break;
    if (m[1] === '"id"') return parseScalar(m[2]!);
    rest = rest.slice(0, m.index);
  }
  return null;
}
