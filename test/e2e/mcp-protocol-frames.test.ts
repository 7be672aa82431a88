/**
 * What reaches `overnight serve` on stdio that is not one valid request: bad params for the
 * non-tool methods, lines that are not JSON, JSON that is no JSON-RPC message, and batches.
 * Every request gets an answer and the server keeps serving. Raw lines over the real stdio pipe,
 * plus the official client for the params checks.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { CLI, connectStdio, writeConfig } from '../helpers/mcp.js';

interface Answer {
  id?: string | number | null;
  result?: unknown;
  error?: { code: number; message: string };
}

/** A raw line-oriented connection to `overnight serve` on stdio. */
class RawServer {
  readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: unknown[] = [];
  private buf = '';
  stderr = '';
  private waiters: (() => void)[] = [];

  constructor() {
    const { file } = writeConfig();
    this.child = spawn(process.execPath, [CLI, 'serve', '--config', file], {
      env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/nonexistent/libnvidia-ml.so.1' },
    });
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.child.stdout.on('data', (d: Buffer) => {
      this.buf += d.toString();
      for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
        this.lines.push(JSON.parse(this.buf.slice(0, nl)));
        this.buf = this.buf.slice(nl + 1);
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  write(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** The first answer (not yet taken) that matches, waiting up to 30 s on a loaded machine. */
  async take<T = Answer>(match: (m: unknown) => boolean, what: string): Promise<T> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const i = this.lines.findIndex(match);
      if (i >= 0) return this.lines.splice(i, 1)[0] as T;
      if (Date.now() > deadline) throw new Error(`no answer for ${what}; got ${JSON.stringify(this.lines)}`);
      if (this.child.exitCode !== null) throw new Error(`server exited (${this.child.exitCode}) before ${what}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  /** Waits (up to 30 s) for stderr to match: it is another pipe than stdout, so it may lag the answers. */
  async stderrMatches(re: RegExp): Promise<void> {
    for (const deadline = Date.now() + 30_000; !re.test(this.stderr);) {
      if (Date.now() > deadline) throw new Error(`stderr never matched ${re}; got ${this.stderr.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Answers not yet taken. */
  all(): unknown[] {
    return [...this.lines];
  }

  /** Array answers not yet taken. */
  arrays(): unknown[] {
    return this.lines.filter((m) => Array.isArray(m));
  }

  byId(id: string | number): Promise<Answer> {
    return this.take((m) => !Array.isArray(m) && (m as Answer).id === id, `id ${id}`);
  }

  async initialize(version: string): Promise<string> {
    this.write(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 'init',
        method: 'initialize',
        params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
      }),
    );
    const r = (await this.byId('init')) as { result: { protocolVersion: string } };
    this.write('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    return r.result.protocolVersion;
  }

  /** Proves the connection still serves: a ping answered. */
  async pings(id: string): Promise<void> {
    this.write(JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }));
    expect((await this.byId(id)).result).toEqual({});
  }

  close(): void {
    this.child.stdin.end();
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** Lines with a bad envelope, the id the answer carries, and the -32600 text (the same on stdio and HTTP). */
const ENVELOPE_CASES: [string, string | number | null, string][] = [
  ['{"jsonrpc":"2.0","id":null,"method":"ping"}', null, 'invalid request: id: got null; expected a string or a number'],
  [
    '{"jsonrpc":"2.0","id":1.5,"method":"ping"}',
    1.5,
    'invalid request: id: got 1.5; expected a string or an integer within ±9007199254740991',
  ],
  [
    '{"jsonrpc":"2.0","id":1152921504606846976,"method":"ping"}',
    null,
    'invalid request: id: got 1152921504606847000 (as parsed); ' +
      'expected a string or an integer within ±9007199254740991',
  ],
  [
    '{"jsonrpc":"2.0","id":3,"method":"ping","result":{}}',
    3,
    'invalid request: a message has "method" or "result"/"error", not both',
  ],
  [
    '{"jsonrpc":"2.0","id":4,"method":"tools/call",' +
      '"params":{"name":"healthCheck","arguments":{},"_meta":{"progressToken":null}}}',
    4,
    'invalid request: params._meta.progressToken: got null; expected a string or an integer',
  ],
];

const servers: RawServer[] = [];
function server(): RawServer {
  const s = new RawServer();
  servers.push(s);
  return s;
}
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

describe('invalid params of non-tool requests (official client)', () => {
  let client: Client;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ client, close } = await connectStdio());
  });
  afterAll(async () => {
    await close?.();
  });

  // logging/setLevel is what this checks, deprecated or not (clients of 2025-era protocols still send it).
  /* eslint-disable @typescript-eslint/no-deprecated */
  const setLevel = (level: string) => client.setLoggingLevel(level as 'debug');
  /* eslint-enable @typescript-eslint/no-deprecated */

  async function rpcError(p: Promise<unknown>): Promise<{ code: number; message: string }> {
    try {
      await p;
    } catch (e) {
      return e as { code: number; message: string };
    }
    throw new Error('expected a JSON-RPC error');
  }

  it('logging/setLevel with a bad level: -32602 naming level, a bounded echo and the allowed levels', async () => {
    const e = await rpcError(setLevel('v'.repeat(5000)));
    expect(e.code).toBe(-32602);
    expect(e.message).toMatch(/params\.level: got "v{60}…" \(5000 characters\)/);
    expect(e.message).toMatch(/"debug"\|"info"\|"notice"\|"warning"\|"error"\|"critical"\|"alert"\|"emergency"/);
    expect(e.message.length).toBeLessThan(400);
    expect(e.message).not.toMatch(/"code":|\n/); // no zod issue dump
    await setLevel('warning'); // a good level still works
  });

  it('resources/read and resources/list with a wrong type: -32602 naming the field', async () => {
    const read = await rpcError(client.readResource({ uri: 5 as unknown as string }));
    expect(read.code).toBe(-32602);
    expect(read.message).toMatch(/params\.uri: got 5; .*expected string/);
    const list = await rpcError(client.listResources({ cursor: 7 as unknown as string }));
    expect(list.code).toBe(-32602);
    expect(list.message).toMatch(/params\.cursor: got 7/);
    // A 3,000-character URI: refused with a bounded echo (the SDK's "not found" echoed it whole, twice).
    const long = await rpcError(client.readResource({ uri: `overnight://${'u'.repeat(3000)}` }));
    expect(long.code).toBe(-32602);
    expect(long.message).toMatch(/params\.uri: got "overnight:\/\/u+…" \(3012 characters\); expected a resource URI/);
    expect(long.message.length).toBeLessThan(300);
    // Methods we do not serve keep "Method not found".
    const complete = await rpcError(
      client.complete({ ref: { type: 'ref/prompt', name: 'x' }, argument: { name: 'a', value: 'b' } }),
    );
    expect(complete.code).toBe(-32601);
    const ok = await client.readResource({ uri: 'overnight://events' });
    expect(ok.contents[0].uri).toBe('overnight://events');
  });
});

describe('raw stdio lines', () => {
  it('a line that is not JSON: -32700 with a null id, and the server keeps serving', async () => {
    const s = server();
    await s.initialize('2025-06-18');
    s.write('this is not json');
    const e = await s.take((m) => (m as Answer).error?.code === -32700, 'the parse error');
    expect(e.id).toBeNull();
    expect(e.error!.message).toMatch(/^parse error: .*not valid JSON/);
    await s.pings('after-parse-error');
  });

  it('JSON that is no JSON-RPC message: -32600 naming what is wrong, with its id when it has one', async () => {
    const s = server();
    await s.initialize('2025-06-18');
    s.write('{"id":17,"method":"ping"}');
    expect((await s.byId(17)).error).toEqual({
      code: -32600,
      message: 'invalid request: jsonrpc: got nothing; expected "2.0"',
    });
    s.write('{"jsonrpc":"2.0","id":18,"method":"tools/list","params":5}');
    expect((await s.byId(18)).error?.message).toBe('invalid request: params: got 5; expected an object');
    s.write('42');
    const n = await s.take((m) => /is an object; got 42/.test((m as Answer).error?.message ?? ''), 'a bare 42');
    expect(n).toMatchObject({ id: null, error: { code: -32600 } });
    await s.pings('after-invalid');
  });

  it('a batch on 2025-06-18 (which removed batches): one -32600 naming the version', async () => {
    const s = server();
    expect(await s.initialize('2025-06-18')).toBe('2025-06-18');
    s.write('[{"jsonrpc":"2.0","id":4,"method":"ping"},{"jsonrpc":"2.0","id":5,"method":"ping"}]');
    const e = await s.take((m) => (m as Answer).error?.code === -32600, 'the batch refusal');
    expect(e.id).toBeNull();
    expect(e.error!.message).toMatch(/batches are not supported by protocol version 2025-06-18/);
    s.write('[]');
    const empty = await s.take((m) => /empty JSON-RPC batch/.test((m as Answer).error?.message ?? ''), '[]');
    expect(empty.id).toBeNull();
    await s.pings('after-batch');
  });

  it('a batch on 2025-03-26 (which has batches): one array with every request answered', async () => {
    const s = server();
    expect(await s.initialize('2025-03-26')).toBe('2025-03-26');
    s.write(
      JSON.stringify([
        { jsonrpc: '2.0', id: 40, method: 'ping' },
        { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'none' } },
        { jsonrpc: '2.0', id: 41, method: 'logging/setLevel', params: { level: 'loud' } },
        { jsonrpc: '2.0', id: 42, method: 'tools/list' },
        7,
      ]),
    );
    const arr = await s.take<Answer[]>((m) => Array.isArray(m), 'the batch answer');
    const byId = new Map(arr.map((a) => [a.id, a]));
    expect(arr).toHaveLength(4); // three requests and the invalid element; the notification gets none
    expect(byId.get(40)!.result).toEqual({});
    expect(byId.get(41)!.error).toMatchObject({ code: -32602 });
    expect(byId.get(41)!.error!.message).toMatch(/params\.level: got "loud"/);
    const tools = (byId.get(42)!.result as { tools: { name: string }[] }).tools.map((t) => t.name);
    expect(tools).toContain('healthCheck');
    expect(byId.get(null)!.error).toMatchObject({ code: -32600 });
    await s.pings('after-good-batch');
  });

  it('a request cancelled in a batch drops out: the rest comes back as an array, later ids stand alone', async () => {
    const s = server();
    expect(await s.initialize('2025-03-26')).toBe('2025-03-26');
    s.write(
      '[{"jsonrpc":"2.0","id":30,"method":"ping"},{"jsonrpc":"2.0","id":31,"method":"tools/call","params":' +
        '{"name":"healthCheck","arguments":{"mode":"quick"}}},' +
        '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":31}}]',
    );
    const arr = await s.take<Answer[]>((m) => Array.isArray(m), 'the batch answer');
    expect(arr).toEqual([{ jsonrpc: '2.0', id: 30, result: {} }]);
    // The batch no longer waits for 31: a standalone request reusing the id is answered alone.
    s.write('{"jsonrpc":"2.0","id":31,"method":"ping"}');
    expect(await s.byId(31)).toEqual({ jsonrpc: '2.0', id: 31, result: {} });
    // A batch whose only request is cancelled answers nothing, and id 6 is free again afterwards.
    s.write(
      '[{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"healthCheck","arguments":{"mode":"quick"}}},' +
        '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":6}}]',
    );
    s.write('{"jsonrpc":"2.0","id":6,"method":"ping"}');
    expect(await s.byId(6)).toEqual({ jsonrpc: '2.0', id: 6, result: {} });
    await s.pings('after-cancel');
    expect(s.arrays()).toEqual([]); // no stray array came back
  });

  it('initialize inside a batch is refused with -32600; a whitespace-only line is ignored like an empty', async () => {
    const s = server();
    expect(await s.initialize('2025-03-26')).toBe('2025-03-26');
    s.write('   \t ');
    s.write(
      JSON.stringify([
        { jsonrpc: '2.0', id: 50, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {} } },
        { jsonrpc: '2.0', id: 51, method: 'ping' },
      ]),
    );
    const arr = await s.take<Answer[]>((m) => Array.isArray(m), 'the batch answer');
    const byId = new Map(arr.map((a) => [a.id, a]));
    expect(byId.get(50)!.error).toEqual({
      code: -32600,
      message: 'invalid request: initialize must be sent alone, not inside a JSON-RPC batch',
    });
    expect(byId.get(51)!.result).toEqual({});
    await s.pings('after-init-batch');
    expect(s.all()).toEqual([]); // the whitespace line got no -32700
    await s.stderrMatches(/refused a message: invalid request: initialize must be sent alone/);
  });

  it('envelope errors name the field; ids past 2^53 and fractional ids are refused, not dropped', async () => {
    const s = server();
    await s.initialize('2025-06-18');
    for (const [body, id, message] of ENVELOPE_CASES) {
      s.write(body);
      const e = await s.take((m) => (m as Answer).error?.message === message, body);
      expect(e, body).toEqual({ jsonrpc: '2.0', id, error: { code: -32600, message } });
    }
    await s.pings('after-envelopes');
  });

  it('an invalid element inside a batch is logged to stderr as a single invalid message is', async () => {
    const s = server();
    expect(await s.initialize('2025-03-26')).toBe('2025-03-26');
    s.write('[{"jsonrpc":"1.0","id":60,"method":"ping"},{"jsonrpc":"2.0","id":61,"method":"ping"}]');
    await s.take<Answer[]>((m) => Array.isArray(m), 'the batch answer');
    await s.pings('after-bad-element');
    await s.stderrMatches(/refused a message: invalid request: jsonrpc: got "1\.0"; expected "2\.0"/);
  });
});

describe('HTTP answers batches by the same rule', () => {
  let proc: ReturnType<typeof spawn> | undefined;
  let port = 0;
  beforeAll(async () => {
    const { file } = writeConfig();
    proc = spawn(process.execPath, [CLI, 'serve', '--http', '0', '--config', file], {
      env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/nonexistent/libnvidia-ml.so.1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    port = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no listening line: ${stderr}`)), 60_000);
      proc!.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /serving MCP on http:\/\/127\.0\.0\.1:(\d+)\/mcp/.exec(stderr);
        if (m) {
          clearTimeout(t);
          resolve(Number(m[1]));
        }
      });
    });
  }, 70_000);
  afterAll(() => {
    proc?.kill('SIGKILL');
  });

  async function post(version: string, body: string): Promise<{ status: number; json: unknown }> {
    const r = await fetch(`http://127.0.0.1:${port}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': version,
      },
      body,
    });
    return { status: r.status, json: await r.json() };
  }
  const pings = '[{"jsonrpc":"2.0","id":4,"method":"ping"},{"jsonrpc":"2.0","id":5,"method":"ping"}]';

  it('2025-06-18: -32600 naming the version; 2025-03-26: both answered in one array', async () => {
    const refused = await post('2025-06-18', pings);
    expect(refused.status).toBe(400);
    expect(refused.json).toMatchObject({ id: null, error: { code: -32600 } });
    expect((refused.json as Answer).error!.message).toMatch(
      /batches are not supported by protocol version 2025-06-18.*send one message per request/,
    );
    const served = await post('2025-03-26', pings);
    expect(served.status).toBe(200);
    expect(served.json).toEqual([
      { jsonrpc: '2.0', id: 4, result: {} },
      { jsonrpc: '2.0', id: 5, result: {} },
    ]);
  });

  it('envelope errors name the field over HTTP as on stdio; ids past 2^53 are refused', async () => {
    for (const [body, id, message] of ENVELOPE_CASES) {
      const r = await post('2025-06-18', body);
      expect(r.status, body).toBe(400);
      expect(r.json, body).toEqual({ jsonrpc: '2.0', id, error: { code: -32600, message } });
    }
    const batch = await post('2025-03-26', '[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":null}]');
    expect((batch.json as Answer).error!.message).toBe(
      'invalid request: batch element 1: id: got null; expected a string or a number',
    );
  });

  it('a bad logging level over HTTP: -32602 naming level, as on stdio', async () => {
    const r = await post('2025-06-18', '{"jsonrpc":"2.0","id":9,"method":"logging/setLevel","params":{"level":"x"}}');
    expect(r.json).toMatchObject({ id: 9, error: { code: -32602 } });
    expect((r.json as Answer).error!.message).toMatch(/params\.level: got "x"; .*"emergency"/);
  });
});
