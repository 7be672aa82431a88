import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { connectClient, errorText, structured } from '../helpers/mcp.js';

let client: Client;
beforeAll(async () => {
  ({ client } = await connectClient({}, 'res-tests'));
});
afterAll(async () => client?.close());

describe('manageResources over MCP', () => {
  it("has the design's schema", async () => {
    const { tools } = await client.listTools();
    const t = tools.find((x) => x.name === 'manageResources')!;
    const props = t.inputSchema.properties as Record<string, { enum?: string[]; properties?: Record<string, unknown> }>;
    expect(props.resourceType.enum).toEqual(['gpu', 'memory', 'disk']);
    expect(props.action.enum).toEqual(['optimize', 'cleanup', 'reserve']);
    expect(Object.keys(props.parameters.properties!)).toEqual(expect.arrayContaining(['threshold', 'priority']));
    expect(t.inputSchema.required).toEqual(['resourceType', 'action']);
  });

  it('answers the nine pairs (no GPU here, no cleanup roots) without crashing, and refuses bad input', async () => {
    for (const resourceType of ['gpu', 'memory', 'disk']) {
      for (const action of ['optimize', 'cleanup', 'reserve']) {
        const r = structured<{ status: string; resource_type: string }>(
          await client.callTool({
            name: 'manageResources',
            arguments: { resourceType, action, parameters: { size: '1M', priority: 'low' }, dryRun: true },
          }),
        );
        expect(r.resource_type).toBe(resourceType);
        expect(['dry_run', 'refused', 'success']).toContain(r.status);
      }
    }
    expect(
      errorText(
        await client.callTool({ name: 'manageResources', arguments: { resourceType: 'cpu', action: 'optimize' } }),
      ),
    ).toMatch(/resourceType: got "cpu"/);
    expect(
      errorText(
        await client.callTool({
          name: 'manageResources',
          arguments: { resourceType: 'disk', action: 'reserve', parameters: { size: 'lots' } },
        }),
      ),
    ).toMatch(/parameters\.size/);
    expect(
      errorText(
        await client.callTool({
          name: 'manageResources',
          arguments: { resourceType: 'disk', action: 'cleanup', parameters: { priority: 'urgent' } },
        }),
      ),
    ).toMatch(/priority: got "urgent"/);
  });
});
