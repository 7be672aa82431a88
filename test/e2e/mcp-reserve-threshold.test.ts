/**
 * manageResources parameters.threshold is the design's fraction (alert_threshold = 0.8), never an
 * amount: a reserve with threshold > 1 was once taken as bytes, silently. Over the real MCP client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { connectClient, errorText, structured } from '../helpers/mcp.js';

let client: Client;
beforeAll(async () => {
  ({ client } = await connectClient({}, 'reserve-threshold-tests'));
});
afterAll(async () => client?.close());

const reserve = (resourceType: string, parameters: Record<string, unknown>) =>
  client.callTool({
    name: 'manageResources',
    arguments: { resourceType, action: 'reserve', parameters, dryRun: true },
  });

describe('manageResources parameters.threshold', () => {
  it('over 1 is refused naming the field, with the field for an amount', async () => {
    for (const type of ['memory', 'disk']) {
      const text = errorText(await reserve(type, { threshold: 5_000_000_000 }));
      expect(text).toMatch(/parameters\.threshold: got 5000000000; parameters\.threshold is a fraction in \(0, 1\]/);
      expect(text).toMatch(/give bytes as parameters\.size/);
    }
    expect(errorText(await reserve('memory', { threshold: 80 }))).toMatch(/did you mean 0\.8\?/);
    expect(errorText(await reserve('gpu', { threshold: 2 }))).toMatch(/a GPU count goes in parameters\.count/);
    // cleanup reads the same field the same way
    const cleanup = await client.callTool({
      name: 'manageResources',
      arguments: { resourceType: 'disk', action: 'cleanup', parameters: { threshold: 1.5 }, dryRun: true },
    });
    expect(errorText(cleanup)).toMatch(/parameters\.threshold: got 1\.5; .*fraction in \(0, 1\]/);
  });

  it('the hint fits the resource: a percentage is said as its fraction, the GPU count only for GPUs', async () => {
    const call = (resourceType: string, action: string, parameters: Record<string, unknown>) =>
      client.callTool({ name: 'manageResources', arguments: { resourceType, action, parameters, dryRun: true } });
    const memory80 = errorText(await call('memory', 'cleanup', { threshold: 80 }));
    expect(memory80).toMatch(/parameters\.threshold: got 80; .*did you mean 0\.8\? \(80 % is 0\.8\)/);
    expect(memory80).not.toMatch(/GPU/);
    const disk = errorText(await call('disk', 'cleanup', { threshold: 1.5 }));
    expect(disk).toMatch(/did you mean 0\.015\? \(1\.5 % is 0\.015\)/);
    expect(disk).not.toMatch(/GPU/);
    expect(errorText(await call('gpu', 'cleanup', { threshold: 80 }))).toMatch(
      /80 % is 0\.8; a GPU count goes in parameters\.count/,
    );
    expect(errorText(await call('memory', 'reserve', { threshold: 5e9 }))).not.toMatch(/GPU/);
  });

  it('size and threshold together are refused, naming both (neither is silently ignored)', async () => {
    for (const type of ['memory', 'disk']) {
      const text = errorText(await reserve(type, { size: '1M', threshold: 0.1, taskId: 'both' }));
      expect(text).toMatch(/got both parameters\.size \("1M"\) and parameters\.threshold \(0\.1\); give one/);
    }
  });

  it('a fraction reserves that share of capacity, and the result says so', async () => {
    const r = structured<{ status: string; message: string; actions: { target: { bytes?: number } }[] }>(
      await reserve('memory', { threshold: 0.01, taskId: 'fraction' }),
    );
    expect(r.status).toBe('dry_run');
    expect(r.message).toMatch(/^would reserve \d+ MB \(parameters\.threshold 0\.01 of \d+ MB capacity\) for fraction/);
    const [, mb, capMb] = /would reserve (\d+) MB \(parameters\.threshold 0\.01 of (\d+) MB/.exec(r.message)!;
    expect(Math.abs(Number(mb) - Number(capMb) * 0.01)).toBeLessThanOrEqual(1);
    const sized = structured<{ message: string }>(await reserve('memory', { size: '1M', taskId: 'sized' }));
    expect(sized.message).toMatch(/would reserve 1 MB \(parameters\.size "1M"\) for sized/);
  });

  it('the schema says it is a fraction and where amounts go', async () => {
    const { tools } = await client.listTools();
    const params = (
      tools.find((t) => t.name === 'manageResources')!.inputSchema.properties as Record<
        string,
        {
          properties: Record<string, { description: string }>;
        }
      >
    ).parameters;
    expect(params.properties.threshold.description).toMatch(/^A fraction in \(0, 1\], never an amount/);
    expect(params.properties.threshold.description).toMatch(/parameters\.size .* parameters\.count for GPUs/);
  });
});
