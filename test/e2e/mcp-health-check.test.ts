import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, connectStdio, errorText, structured, writeConfig } from '../helpers/mcp.js';

type Conn = Awaited<ReturnType<typeof connectStdio>>;
let conn: Conn;

beforeAll(async () => {
  // A slow command probe makes a full check take ~300 ms, so its progress is spread over time.
  // sustainMs 0: a breach shows on the first reading, so the breach tests need not wait out a window.
  conn = await connectStdio({
    thresholds: { memory: 0.85 },
    hysteresis: { sustainMs: 0, sustainSamples: 1 },
    probes: [{ name: 'slow', command: ['sleep', '0.3'], timeoutMs: 5000, intervalMs: 1 }],
  });
});
afterAll(async () => conn?.close());

describe('the MCP server over stdio', () => {
  it("lists healthCheck with the design's input schema, an output schema and read-only annotations", async () => {
    const { tools } = await conn.client.listTools();
    const hc = tools.find((t) => t.name === 'healthCheck')!;
    expect(hc).toBeTruthy();
    const props = hc.inputSchema.properties as Record<
      string,
      { type?: string; enum?: string[]; properties?: Record<string, { type: string }> }
    >;
    expect(props.checkType.type).toBe('string');
    expect(props.checkType.enum).toEqual(['quick', 'full', 'recovery']);
    expect(Object.keys(props.thresholds.properties!)).toEqual(
      expect.arrayContaining(['memory', 'gpu', 'responseTime']),
    );
    for (const k of ['memory', 'gpu', 'responseTime']) expect(props.thresholds.properties![k].type).toBe('number');
    expect(hc.inputSchema.required ?? []).toEqual([]);
    expect(hc.outputSchema).toBeTruthy();
    expect(hc.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect(hc.description!.length).toBeGreaterThan(100);
  });

  it.each(['quick', 'full', 'recovery'] as const)(
    "answers checkType %s with the design's result fields",
    async (checkType) => {
      const r = structured<{
        status: string;
        check_type: string;
        metrics: Record<string, unknown>;
        recommendations: unknown[];
        breached: unknown[];
        thresholds: { memory: number };
        recovery_check?: { problem_resolved: unknown };
      }>(await conn.client.callTool({ name: 'healthCheck', arguments: { checkType } }));
      expect(['healthy', 'degraded', 'critical']).toContain(r.status);
      expect(r.check_type).toBe(checkType);
      for (const k of [
        'gpu_health',
        'memory_status',
        'response_times',
        'error_rates',
        'recovery_status',
        'cpu',
        'pressure',
        'cgroup',
        'disk',
      ])
        expect(r.metrics).toHaveProperty(k);
      expect(r.metrics.gpu_health).toMatchObject({ available: false });
      expect(Array.isArray(r.recommendations)).toBe(true);
      expect(r.thresholds.memory).toBe(0.85); // from the configuration file
      if (checkType !== 'quick') expect(r.metrics).toHaveProperty('processes');
      if (checkType === 'recovery') expect(r.recovery_check).toHaveProperty('problem_resolved');
    },
  );

  it('reports a breached threshold with the observed value, and an actionable recommendation', async () => {
    const r = structured<{
      status: string;
      breached: { metric: string; observed: number; limit: number }[];
      recommendations: { message: string; tool?: { name: string } }[];
    }>(
      await conn.client.callTool({
        name: 'healthCheck',
        arguments: { checkType: 'full', thresholds: { memory: 0.001, disk: 0.001 } },
      }),
    );
    expect(r.status).not.toBe('healthy');
    const mem = r.breached.find((b) => b.metric === 'memory')!;
    expect(mem.limit).toBe(0.001);
    expect(mem.observed).toBeGreaterThan(0.001);
    expect(r.breached.some((b) => b.metric === 'disk:/')).toBe(true);
    const rec = r.recommendations.find((x) => x.message.startsWith('memory at'))!;
    expect(rec.message).toMatch(/largest: pid \d+/);
    expect(rec.tool!.name).toBe('manageResources');
  });

  it('sends progress notifications for a full check when asked', async () => {
    const seen: { progress: number; total?: number; message?: string }[] = [];
    await conn.client.callTool(
      { name: 'healthCheck', arguments: { checkType: 'full' } },
      { onprogress: (p) => seen.push(p) },
    );
    // The client drops a notification it processes after the result; the early steps arrive first.
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen[0]).toMatchObject({ progress: 1, total: 5, message: 'host sampled' });
    expect(seen.map((s) => s.message)).toContain('processes scanned');
  });

  it.each([
    [{ checkType: 'fast' }, /checkType: got "fast"; expected one of "quick", "full", "recovery"/],
    [{ thresholds: { memory: 80 } }, /thresholds\.memory: got 80; .*did you mean 0\.8\?/],
    [{ thresholds: { memory: -1 } }, /thresholds\.memory: got -1; .*fraction of capacity in \(0, 1\]/],
    [{ thresholds: { memroy: 0.5 } }, /unknown property "memroy"; did you mean "memory"\?/],
    [{ thresholds: { responseTime: 'fast' } }, /thresholds\.responseTime: got "fast"; .*number of milliseconds/],
    [{ thresholds: [] }, /thresholds: got \[\]; thresholds must be an object/],
    [{ checkType: 'quick', extra: true }, /unknown property "extra"/],
  ])('refuses %j with a message naming the field, the value and what is allowed', async (args, pattern) => {
    const text = errorText(await conn.client.callTool({ name: 'healthCheck', arguments: args }));
    expect(text).toMatch(pattern);
  });

  it('answers an unknown tool with a protocol error and keeps serving', async () => {
    await expect(conn.client.callTool({ name: 'noSuchTool', arguments: {} })).rejects.toThrow(/not found/);
    const r = structured<{ status: string }>(await conn.client.callTool({ name: 'healthCheck', arguments: {} }));
    expect(r.status).toBeTruthy();
  });

  it('records its own tool calls in response_times and error_rates', async () => {
    const get = async () =>
      structured<{
        metrics: {
          response_times: { tool_calls: { count: number; p95_ms: number } };
          error_rates: { tool_calls: { count: number; errors: number } };
        };
      }>(await conn.client.callTool({ name: 'healthCheck', arguments: { checkType: 'quick' } }));
    const a = await get();
    const b = await get();
    // Each result counts the calls completed before it: the one before is in, this one is not yet.
    expect(b.metrics.response_times.tool_calls.count).toBe(a.metrics.response_times.tool_calls.count + 1);
    expect(b.metrics.response_times.tool_calls.p95_ms).toBeGreaterThan(0);
    expect(b.metrics.error_rates.tool_calls.count).toBe(b.metrics.response_times.tool_calls.count);
  });

  it('logs only to stderr: stdout carries nothing but protocol messages', () => {
    expect(conn.stderr()).toContain('serving MCP on stdio');
  });
});

describe('raw protocol abuse', () => {
  it('survives garbage, wrong shapes and unknown methods, and still answers', async () => {
    const { file } = writeConfig();
    const p = spawn(process.execPath, [CLI, 'serve', '--config', file], {
      stdio: ['pipe', 'pipe', 'ignore'],
      env: { ...process.env, OVERNIGHT_NVML_LIBRARY: '/none' },
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    const lines = [
      'this is not json',
      '[1,2,3]',
      '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},' +
        '"clientInfo":{"name":"raw","version":"1"}}}',
      '{"jsonrpc":"2.0","method":"notifications/initialized"}',
      '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"healthCheck","arguments":"notanobject"}}',
      '{"jsonrpc":"2.0","id":3,"method":"tools/call",' +
        '"params":{"name":"healthCheck","arguments":{"thresholds":{"memory":null}}}}',
      '{"jsonrpc":"2.0","id":4,"method":"no/such/method"}',
      '{"jsonrpc":"2.0","id":5,"method":"tools/call",' +
        `"params":{"name":"healthCheck","arguments":{"checkType":"${'x'.repeat(100000)}"}}}`,
      '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"healthCheck","arguments":{}}}',
    ];
    for (const l of lines) p.stdin.write(`${l}\n`);
    const t0 = Date.now();
    while (!out.includes('"id":6') && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    p.kill();
    const msgs = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id?: number; error?: { code: number }; result?: { isError?: boolean } });
    const byId = new Map(msgs.map((m) => [m.id, m]));
    expect(byId.get(2)!.error!.code).toBe(-32602);
    expect(byId.get(3)!.result!.isError).toBe(true);
    expect(byId.get(4)!.error!.code).toBe(-32601);
    expect(byId.get(5)!.result!.isError).toBe(true);
    expect(byId.get(6)!.result!.isError).toBeUndefined();
  });
});
