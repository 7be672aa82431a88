import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, connectClient, errorText, structured } from '../helpers/mcp.js';
import type { Client } from '@modelcontextprotocol/client';

let client: Client;
let cfg: { file: string };

beforeAll(async () => {
  const c = await connectClient({}, 'progress-tests');
  client = c.client;
  cfg = { file: c.config };
});
afterAll(async () => client?.close());

describe('trackProgress over MCP', () => {
  it('has the design\'s schema (taskId required; checkpoints of stage, completion, artifacts)', async () => {
    const { tools } = await client.listTools();
    const t = tools.find((x) => x.name === 'trackProgress')!;
    expect(t.inputSchema.required).toEqual(['taskId']);
    const cps = (t.inputSchema.properties as Record<string, { type: string; items: { properties: Record<string, unknown> } }>).checkpoints!;
    expect(cps.type).toBe('array');
    expect(Object.keys(cps.items.properties)).toEqual(['stage', 'completion', 'artifacts']);
  });

  it('writes, reads back, and refuses bad input with the field named', async () => {
    const w = structured<{ task_id: string; recorded: number; current_stage: { stage: string } }>(
      await client.callTool({ name: 'trackProgress', arguments: { taskId: 'e2e-task', checkpoints: [{ stage: 'plan', completion: 0.1 }, { stage: 'build', completion: 0.3 }] } }),
    );
    expect(w.recorded).toBe(2);
    const r = structured<{ stages_completed: number; estimated_completion: unknown }>(await client.callTool({ name: 'trackProgress', arguments: { taskId: 'e2e-task' } }));
    expect(r.stages_completed).toBe(1);
    expect(errorText(await client.callTool({ name: 'trackProgress', arguments: { taskId: 'e2e-task', checkpoints: [{ stage: 'x', completion: 2 }] } }))).toMatch(/checkpoints\.0\.completion: got 2/);
    expect(errorText(await client.callTool({ name: 'trackProgress', arguments: { checkpoints: [] } }))).toMatch(/taskId/);
  });

  it('answers a stored write as stored when the same completion is reported again (no ETA, a reason)', async () => {
    // An agent re-reporting the same progress: the regression's slope is ~1e-20, not 0, and once made
    // the ETA throw after the checkpoint was committed, so the call came back isError and was retried.
    const call = () => client.callTool({ name: 'trackProgress', arguments: { taskId: 'same-again', checkpoints: [{ stage: 'build', completion: 0.3 }] } });
    for (let i = 1; i <= 4; i++) {
      const r = await call();
      expect((r as { isError?: boolean }).isError ?? false).toBe(false);
      const s = structured<{ recorded: number; checkpoints: number; estimated_completion: unknown; estimated_completion_reason?: string }>(r);
      expect(s.recorded).toBe(1);
      expect(s.checkpoints).toBe(i);
      if (i >= 3) {
        expect(s.estimated_completion).toBeNull();
        expect(s.estimated_completion_reason).toMatch(/no progress over the last \d+ checkpoints/);
      }
    }
    const read = await client.callTool({ name: 'trackProgress', arguments: { taskId: 'same-again' } });
    expect((read as { isError?: boolean }).isError ?? false).toBe(false);
    expect(structured<{ checkpoints: number }>(read).checkpoints).toBe(4);
  });

  it('`overnight progress` shows the same task as JSON', () => {
    const list = JSON.parse(execFileSync(process.execPath, [CLI, 'progress', '--json', '--config', cfg.file], { encoding: 'utf8' })) as { task_id: string; completion: number }[];
    expect(list.find((t) => t.task_id === 'e2e-task')!.completion).toBe(0.3);
    const one = JSON.parse(execFileSync(process.execPath, [CLI, 'progress', 'e2e-task', '--config', cfg.file], { encoding: 'utf8' })) as { checkpoints: number };
    expect(one.checkpoints).toBe(2);
  });
});
