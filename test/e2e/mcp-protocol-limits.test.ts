/**
 * The protocol surface under hostile or careless input, over the real stdio transport: oversize
 * messages, huge echoed values, deep nesting, and one definition of each shared field type.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { connectStdio, errorText, structured } from '../helpers/mcp.js';

let client: Client;
let close: () => Promise<void>;
let stderr: () => string;

beforeAll(async () => {
  // Default configuration: the 10 MiB limit is the SDK's own read buffer size.
  ({ client, close, stderr } = await connectStdio());
});
afterAll(async () => {
  await close?.();
});

async function quickWorks(): Promise<void> {
  const r = structured<{ status: string }>(
    await client.callTool({ name: 'healthCheck', arguments: { checkType: 'quick' } }),
  );
  expect(['healthy', 'degraded', 'critical']).toContain(r.status);
}

/** The JSON-RPC error of a call, or a failure when it succeeded. */
async function rpcError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a JSON-RPC error');
}

describe('stdio: a message over the 10 MiB limit', () => {
  it('is refused with an error that names the limit and how to raise it, and the server stays up', async () => {
    const big = 'x'.repeat(11 * 1024 * 1024);
    const msg = await rpcError(client.callTool({ name: 'healthCheck', arguments: { checkType: 'quick', note: big } }));
    expect(msg).toMatch(/message of \d+ bytes refused: the limit is 10485760 bytes \(server\.maxMessageBytes\)/);
    expect(msg).toMatch(/raise server\.maxMessageBytes/);
    expect(stderr()).toMatch(/limit is 10485760 bytes/);
    // Still serving on the same connection, twice over.
    await quickWorks();
    await expect(
      rpcError(client.callTool({ name: 'healthCheck', arguments: { checkType: 'quick', note: big } })),
    ).resolves.toMatch(/refused/);
    await quickWorks();
  });
});

describe('echoed values are capped, the field is kept', () => {
  it('a 1 MB unknown key gives a short error that names where and how long', async () => {
    const text = errorText(
      await client.callTool({ name: 'healthCheck', arguments: { checkType: 'quick', ['k'.repeat(1_000_000)]: 1 } }),
    );
    expect(text.length).toBeLessThan(600);
    expect(text).toMatch(/arguments: unknown property "k{60}… \(1000000 characters\)"/);
  });

  it('a 100 k-character bad value is cut to 60 characters and its length', async () => {
    const text = errorText(
      await client.callTool({ name: 'healthCheck', arguments: { checkType: 'q'.repeat(100_000) } }),
    );
    expect(text.length).toBeLessThan(600);
    expect(text).toMatch(/checkType: got "q{60}…" \(100000 characters\); expected one of "quick", "full", "recovery"/);
    const tid = errorText(
      await client.callTool({
        name: 'manageResources',
        arguments: { resourceType: 'disk', action: 'reserve', parameters: { taskId: `\n${'t'.repeat(5000)}` } },
      }),
    );
    expect(tid.length).toBeLessThan(600);
    expect(tid).toMatch(/parameters\.taskId: got a parameters\.taskId of 5001 characters; at most 256/);
  });

  it('a 100 k-character tool name is refused with a bounded echo (the SDK would echo it whole)', async () => {
    const msg = await rpcError(client.callTool({ name: 'n'.repeat(100_000), arguments: {} }));
    expect(msg.length).toBeLessThan(400);
    expect(msg).toMatch(/params\.name: got "n{60}…" \(100000 characters\); a tool name is at most 128 characters/);
    await quickWorks();
  });

  it('a flood of unknown keys names the first few and counts the rest', async () => {
    const args: Record<string, unknown> = { checkType: 'quick' };
    for (let i = 0; i < 10_000; i++) args[`key${i}`] = i;
    const text = errorText(await client.callTool({ name: 'healthCheck', arguments: args }));
    expect(text.length).toBeLessThan(2000);
    expect(text).toMatch(/and 9995 more unknown properties/);
  });
});

describe('nesting deeper than 64 levels', () => {
  it('is refused with a named error naming the field, not a stack overflow', async () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 500; i++) deep = deep.a = {};
    const msg = await rpcError(
      client.callTool({ name: 'healthCheck', arguments: { checkType: 'quick', thresholds: root } }),
    );
    expect(msg).toMatch(/arguments\.thresholds\.a\.a.*nested deeper than 64 levels/);
    expect(msg).not.toMatch(/call stack/);
    await quickWorks();
  });

  it("64 levels pass the guard and reach the tool's own validation", async () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 62; i++) deep = deep.a = {};
    // arguments (1) > thresholds (2) > 62 more = 64 levels
    const text = errorText(
      await client.callTool({ name: 'healthCheck', arguments: { checkType: 'quick', thresholds: root } }),
    );
    expect(text).toMatch(/thresholds: unknown property "a"/);
  });
});

describe('one definition of each field type, in every tool', () => {
  const call = (name: string, args: Record<string, unknown>) =>
    client.callTool({ name, arguments: args }).then(errorText);

  it.each([
    [
      'recoverOperation',
      { operationType: 'memory_leak', dryRun: true, context: { timestamp: 1e308 } },
      /context\.timestamp: got 1e\+308; context\.timestamp is milliseconds since the epoch/,
    ],
    [
      'recoverOperation',
      { operationType: 'memory_leak', dryRun: true, context: { timestamp: -5 } },
      /context\.timestamp: got -5/,
    ],
    [
      'recoverOperation',
      { operationType: 'memory_leak', dryRun: true, context: { timestamp: 1_795_769_307 } },
      /did you mean 1795769307000 \(that looks like seconds\)/,
    ],
    [
      'recoverOperation',
      { operationType: 'memory_leak', dryRun: true, context: { pid: 1.5 } },
      /context\.pid: got 1\.5; context\.pid is a process id, an integer in \[2, 4194304\]/,
    ],
    [
      'recoverOperation',
      { operationType: 'gpu_reset', dryRun: true, context: { gpu: 0.5 } },
      /context\.gpu: got 0\.5; context\.gpu is a GPU index, an integer/,
    ],
    [
      'recoverOperation',
      { operationType: 'memory_leak', dryRun: true, context: { taskId: 'a\u0000b' } },
      /context\.taskId: got "a\\u0000b"; context\.taskId must not contain control characters/,
    ],
    [
      'recoverOperation',
      { operationType: 'memory_leak', dryRun: true, context: { taskId: 'a\nb' } },
      /context\.taskId: .*must not contain control characters/,
    ],
    [
      'manageResources',
      { resourceType: 'gpu', action: 'reserve', dryRun: true, parameters: { count: 1.5 } },
      /parameters\.count: got 1\.5; parameters\.count is a count of GPUs, an integer in \[1, 64\]/,
    ],
    [
      'manageResources',
      { resourceType: 'gpu', action: 'reserve', dryRun: true, parameters: { gpus: [0.5] } },
      /parameters\.gpus\.0: got 0\.5; parameters\.gpus\[\] is a GPU index/,
    ],
    [
      'manageResources',
      { resourceType: 'disk', action: 'reserve', dryRun: true, parameters: { taskId: 'a\u0000b' } },
      /parameters\.taskId: got "a\\u0000b"; parameters\.taskId must not contain control characters/,
    ],
    [
      'manageResources',
      { resourceType: 'disk', action: 'reserve', dryRun: true, parameters: { taskId: 'line1\nline2' } },
      /parameters\.taskId: .*must not contain control characters/,
    ],
    [
      'manageResources',
      { resourceType: 'disk', action: 'reserve', dryRun: true, parameters: { size: 1.5 } },
      /parameters\.size: got 1\.5; parameters\.size is a whole number of bytes/,
    ],
    [
      'manageResources',
      { resourceType: 'disk', action: 'reserve', dryRun: true, parameters: { size: -1 } },
      /parameters\.size: got -1/,
    ],
    ['trackProgress', { taskId: 'a\u0000b' }, /taskId: got "a\\u0000b"; taskId must not contain control characters/],
    ['trackProgress', { taskId: 'a\nb' }, /taskId: .*must not contain control characters/],
  ])('%s refuses %j', async (tool, args, pattern) => {
    expect(await call(tool, args)).toMatch(pattern);
  });

  it('accepts the good values of the same fields', async () => {
    const r = structured<{ status: string }>(
      await client.callTool({
        name: 'recoverOperation',
        arguments: {
          operationType: 'memory_leak',
          dryRun: true,
          context: { taskId: 'task-1', timestamp: Date.now(), pid: process.pid },
        },
      }),
    );
    expect(typeof r.status).toBe('string');
    const m = structured<{ status: string }>(
      await client.callTool({
        name: 'manageResources',
        arguments: {
          resourceType: 'disk',
          action: 'reserve',
          dryRun: true,
          parameters: { taskId: 'task-1', size: '1M' },
        },
      }),
    );
    expect(typeof m.status).toBe('string');
  });
});
