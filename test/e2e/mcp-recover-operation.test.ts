import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, connectClient, errorText, structured } from '../helpers/mcp.js';
import { firstLine, killAll, procState, scripts, spawnNode, waitFor } from '../helpers/children.js';
import type { Client } from '@modelcontextprotocol/client';

let client: Client;
let cfg: { file: string };

beforeAll(async () => {
  const c = await connectClient({ sampleIntervalMs: 200, policy: { termGraceSec: 1 } }, 'recover-tests');
  client = c.client;
  cfg = { file: c.config };
});
afterAll(async () => {
  killAll();
  await client?.close();
});

describe('recoverOperation over MCP', () => {
  it("has the design's schema (operationType required) and destructive annotations", async () => {
    const { tools } = await client.listTools();
    const t = tools.find((x) => x.name === 'recoverOperation')!;
    const props = t.inputSchema.properties as Record<string, { enum?: string[]; properties?: Record<string, unknown> }>;
    expect(props.operationType.enum).toEqual(['memory_leak', 'gpu_reset', 'process_hang']);
    expect(t.inputSchema.required).toEqual(['operationType']);
    expect(Object.keys(props.context.properties!)).toEqual(
      expect.arrayContaining(['taskId', 'errorType', 'timestamp']),
    );
    // force is an additive extra beside dryRun: the design's fields are unchanged.
    expect(Object.keys(props)).toEqual(['operationType', 'context', 'dryRun', 'force']);
    expect((props.force as { type?: string }).type).toBe('boolean');
    expect(t.annotations).toMatchObject({ destructiveHint: true, readOnlyHint: false });
  });

  it('gpu_reset on a node without NVML: an unresettable Xid escalates (drain, reboot), not "recovered"', async () => {
    const plain = structured(
      await client.callTool({ name: 'recoverOperation', arguments: { operationType: 'gpu_reset', dryRun: true } }),
    );
    expect(plain).toMatchObject({ status: 'dry_run', nothing_to_do: true });
    const r = structured(
      await client.callTool({
        name: 'recoverOperation',
        arguments: { operationType: 'gpu_reset', context: { xid: 79 } },
      }),
    );
    expect(r.status).toBe('escalated');
    expect(String(r.message)).toMatch(/Xid 79 .*drain the node and reboot it/);
  });

  it('refuses a missing or wrong operationType clearly', async () => {
    expect(errorText(await client.callTool({ name: 'recoverOperation', arguments: {} }))).toMatch(/operationType/);
    expect(
      errorText(await client.callTool({ name: 'recoverOperation', arguments: { operationType: 'reboot' } })),
    ).toMatch(/got "reboot"; expected one of "memory_leak", "gpu_reset", "process_hang"/);
    expect(
      errorText(
        await client.callTool({
          name: 'recoverOperation',
          arguments: { operationType: 'process_hang', context: { pid: 'abc' } },
        }),
      ),
    ).toMatch(/context\.pid: got "abc"/);
  });

  it("dry-runs a stopped child (in the server's descendant scope), leaves it alone; audit shows it", async () => {
    const c = spawnNode(scripts.idle());
    await firstLine(c);
    c.kill('SIGSTOP');
    await waitFor(() => procState(c.pid!) === 'T');
    const r = structured<{ status: string; actions_taken: { step: string; outcome: string }[] }>(
      await client.callTool({
        name: 'recoverOperation',
        arguments: { operationType: 'process_hang', context: { pid: c.pid, taskId: 'e2e' }, dryRun: true },
      }),
    );
    expect(r.status).toBe('dry_run');
    expect(r.actions_taken.map((a) => `${a.step}:${a.outcome}`)).toEqual([
      'SIGCONT:would_do',
      'SIGTERM:would_do',
      'SIGKILL:would_do',
    ]);
    expect(procState(c.pid!)).toBe('T');
    const audit = JSON.parse(
      execFileSync(process.execPath, [CLI, 'audit', '--json', '--config', cfg.file], { encoding: 'utf8' }),
    ) as { target: { pid?: number }; dry_run: boolean; inputs: { taskId?: string } }[];
    const mine = audit.filter((e) => e.target.pid === c.pid);
    expect(mine.length).toBe(3);
    expect(mine.every((e) => e.dry_run && e.inputs.taskId === 'e2e')).toBe(true);
    c.kill('SIGKILL');
  });

  it('refuses memory_leak on a process without leak evidence, saying what is missing, unless force: true', async () => {
    const c = spawnNode(scripts.idle());
    await firstLine(c);
    const call = async (extra: Record<string, unknown>) =>
      structured<{ status: string; dry_run: boolean; message: string }>(
        await client.callTool({
          name: 'recoverOperation',
          arguments: { operationType: 'memory_leak', context: { pid: c.pid }, ...extra },
        }),
      );
    expect(await call({ dryRun: true })).toMatchObject({ status: 'refused', dry_run: true });
    const refused = await call({});
    expect(refused).toMatchObject({ status: 'refused', dry_run: false });
    expect(refused.message).toMatch(/shows no leak: .*force: true/);
    expect(procState(c.pid!)).not.toBeNull();
    expect(await call({ force: true })).toMatchObject({ status: 'recovered', dry_run: false });
    await waitFor(() => procState(c.pid!) === null || procState(c.pid!) === 'Z');
    const audit = JSON.parse(
      execFileSync(process.execPath, [CLI, 'audit', '--json', '--config', cfg.file], { encoding: 'utf8' }),
    ) as { action: string; allowed: boolean; target: { pid?: number }; inputs: { forced?: string } }[];
    expect(
      audit
        .filter((e) => e.target.pid === c.pid && e.action === 'signal' && e.allowed)
        .every((e) => /^no leak evidence/.test(e.inputs.forced ?? '')),
    ).toBe(true);
  });

  it('really recovers it when asked', async () => {
    const c = spawnNode(scripts.idle());
    await firstLine(c);
    c.kill('SIGSTOP');
    await waitFor(() => procState(c.pid!) === 'T');
    const r = structured<{ status: string }>(
      await client.callTool({
        name: 'recoverOperation',
        arguments: { operationType: 'process_hang', context: { pid: c.pid } },
      }),
    );
    expect(r.status).toBe('recovered');
    await waitFor(() => procState(c.pid!) === null || procState(c.pid!) === 'Z');
    const h = structured<{ recovery_check: { last_recovery: { operation_type: string }; problem_resolved: boolean } }>(
      await client.callTool({ name: 'healthCheck', arguments: { checkType: 'recovery' } }),
    );
    expect(h.recovery_check.last_recovery.operation_type).toBe('process_hang');
  });
});
