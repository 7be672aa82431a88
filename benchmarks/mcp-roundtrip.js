// healthCheck round trip through the real MCP client over stdio to the built server (median, p99).
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import path from 'node:path';
import { benchDir, fmtUs, timeAsync } from './lib/measure.js';

export async function run() {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [path.join(benchDir, '../bin/overnight.js'), 'serve'],
    stderr: 'ignore',
  });
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  const call = (checkType) => () => client.callTool({ name: 'healthCheck', arguments: { checkType } });
  const quick = await timeAsync(call('quick'), { iterations: 500, warmup: 20 });
  const full = await timeAsync(call('full'), { iterations: 100, warmup: 5 });
  const server = await client.callTool({ name: 'healthCheck', arguments: { checkType: 'quick' } });
  const serverMs = server.structuredContent.duration_ms;
  const serverFull = (await client.callTool({ name: 'healthCheck', arguments: { checkType: 'full' } }))
    .structuredContent.duration_ms;
  await client.close();
  return {
    title: 'healthCheck round trip through @modelcontextprotocol/client over stdio',
    head: ['checkType', 'median', 'p99', 'server-side (duration_ms)'],
    rows: [
      ['quick', fmtUs(quick.medianUs), fmtUs(quick.p99Us), `${serverMs.toFixed(3)} ms`],
      ['full', fmtUs(full.medianUs), fmtUs(full.p99Us), `${serverFull.toFixed(3)} ms`],
    ],
    notes: [
      'full includes an async scan of the whole process table and probe runs; GPU sampling is skipped when no ' +
        'NVIDIA driver is present',
    ],
    raw: { quick, full, serverMs, serverFull },
  };
}
