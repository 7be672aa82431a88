/**
 * The batch bookkeeping of the stdio wire (stdio-frames.ts) driven as the SDK drives it: lines in,
 * answers out. The end-to-end behaviour over a real pipe is in test/e2e/mcp-protocol-frames.test.ts;
 * this covers what a real server cannot show in a test's time: the expiry of a batch never answered.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { StdioFrames } from '../../src/mcp/stdio-frames.js';

const line = (v: unknown) => Buffer.from(`${JSON.stringify(v)}\n`);

function frames(waitMs?: number) {
  const sent: unknown[] = [];
  const f = new StdioFrames((m) => sent.push(m), waitMs);
  f.inspect(line({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-03-26' } }));
  return { f, sent };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('StdioFrames batches', () => {
  it('a cancelled element drops out: the rest is answered as an array, nothing stays pending', () => {
    const { f, sent } = frames();
    const out = f.inspect(
      line([
        { jsonrpc: '2.0', id: 30, method: 'ping' },
        { jsonrpc: '2.0', id: 31, method: 'tools/call', params: { name: 'healthCheck', arguments: {} } },
        { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 31 } },
      ]),
    );
    expect(out).toHaveLength(3); // all three reach the SDK (the cancel aborts 31 there)
    expect(f.outgoing({ jsonrpc: '2.0', id: 30, result: {} })).toBeUndefined();
    expect(sent).toEqual([[{ jsonrpc: '2.0', id: 30, result: {} }]]);
    expect(f.pendingBatches).toBe(0);
    // A later standalone request reusing the id is answered alone.
    const again: JSONRPCMessage = { jsonrpc: '2.0', id: 31, result: {} };
    expect(f.outgoing(again)).toBe(again);
  });

  it('a cancel on a later line frees a pending batch; a batch of only cancelled requests answers nothing', () => {
    const { f, sent } = frames();
    f.inspect(line([{ jsonrpc: '2.0', id: 'a', method: 'ping' }]));
    expect(f.pendingBatches).toBe(1);
    f.inspect(line({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'a' } }));
    expect(f.pendingBatches).toBe(0);
    expect(sent).toEqual([]);
  });

  it('a batch never answered within its wait gets -32603 for the missing elements and is freed', () => {
    vi.useFakeTimers();
    const { f, sent } = frames(1000);
    f.inspect(
      line([
        { jsonrpc: '2.0', id: 1, method: 'ping' },
        { jsonrpc: '2.0', id: 2, method: 'ping' },
      ]),
    );
    f.outgoing({ jsonrpc: '2.0', id: 1, result: {} });
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1001);
    expect(f.pendingBatches).toBe(0);
    expect(sent).toEqual([
      [
        { jsonrpc: '2.0', id: 1, result: {} },
        {
          jsonrpc: '2.0',
          id: 2,
          error: { code: -32603, message: expect.stringMatching(/no answer within 1 s/) as unknown },
        },
      ],
    ]);
    // The late answer goes out on its own.
    const late: JSONRPCMessage = { jsonrpc: '2.0', id: 2, result: {} };
    expect(f.outgoing(late)).toBe(late);
  });

  it('initialize inside a batch is refused with -32600; whitespace-only lines are ignored', () => {
    const { f, sent } = frames();
    const out = f.inspect(
      line([{ jsonrpc: '2.0', id: 9, method: 'initialize', params: { protocolVersion: '2025-03-26' } }]),
    );
    expect(out).toEqual([]);
    expect(sent).toEqual([
      [
        {
          jsonrpc: '2.0',
          id: 9,
          error: { code: -32600, message: expect.stringMatching(/initialize must be sent alone/) as unknown },
        },
      ],
    ]);
    expect(f.inspect(Buffer.from(' \t \r\n'))).toEqual([]);
    expect(sent).toHaveLength(1);
  });
});
