import { describe, expect, it } from 'vitest';
import { deeperThan, refusalOf } from '../../src/mcp/message-guard.js';
import { idOf, MessageLineLimiter, type OversizeMessage } from '../../src/mcp/stdio-lines.js';

async function run(limit: number, chunks: string[]): Promise<{ lines: string[]; refused: OversizeMessage[] }> {
  const refused: OversizeMessage[] = [];
  const l = new MessageLineLimiter(limit, (m) => refused.push(m));
  const out: Buffer[] = [];
  l.on('data', (d: Buffer) => out.push(d));
  const done = new Promise((r) => l.on('end', r));
  for (const c of chunks) l.write(Buffer.from(c));
  l.end();
  await done;
  return { lines: Buffer.concat(out).toString().split('\n').filter(Boolean), refused };
}

describe('MessageLineLimiter', () => {
  it('passes lines within the limit whole, however the chunks split them', async () => {
    const r = await run(20, ['{"a":', '1}\n{"b"', ':2}\n{"c":3}']);
    expect(r.lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    expect(r.refused).toEqual([]);
  });

  it('skips an oversize line as it streams past and reports its size and id; the next line passes', async () => {
    const big = `{"method":"tools/call","params":{"x":"${'y'.repeat(100)}"},"jsonrpc":"2.0","id":42}`;
    const r = await run(50, ['{"id":1}\n', big.slice(0, 30), big.slice(30, 90), `${big.slice(90)}\n{"id":2}\n`]);
    expect(r.lines).toEqual(['{"id":1}', '{"id":2}']);
    expect(r.refused).toEqual([{ bytes: big.length, id: 42 }]);
  });
});

describe('idOf', () => {
  it('reads the top-level id from the head, never a nested one', () => {
    expect(idOf('{"jsonrpc":"2.0","id":"abc","params":{"x', '')).toBe('abc');
    expect(idOf('{"params":{"id":5,"x":"', 'zz"}}')).toBe(null);
    expect(idOf('{"params":{"id":5,"x":"', 'zz"},"id":9}')).toBe(9);
    expect(idOf('{"method":"x","params":{"a":"', 'a"},"jsonrpc":"2.0","id":"r-1"}')).toBe('r-1');
  });
});

describe('nesting guard', () => {
  it('walks 100,000 levels without recursion and names the path', () => {
    let v: unknown = {};
    for (let i = 0; i < 100_000; i++) v = { k: v };
    expect(deeperThan(v, 'arguments')).toMatch(/^arguments\.k\.k\.k/);
    expect(deeperThan({ a: [[{}]] }, 'arguments')).toBeUndefined();
  });

  it('measures tool arguments from "arguments": 64 levels pass, 65 do not', () => {
    const nest = (n: number): unknown => {
      let v: unknown = {};
      for (let i = 1; i < n; i++) v = { a: v };
      return v;
    };
    const call = (args: unknown) => ({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'x', arguments: args },
    });
    expect(refusalOf(call(nest(64)))).toBeUndefined();
    expect(refusalOf(call(nest(65)))).toMatch(/nested deeper than 64 levels/);
  });
});
