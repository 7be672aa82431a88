// healthCheck round trip through the real MCP client over stdio to the built server (`overnight serve`), quick and
// full, against the peer every MCP server pays: a trivial tool on a bare SDK v2 server (fixtures/bare-sdk-server.js)
// over the same transport. The three alternate in rounds (interleave()); figures are medians of the round medians,
// with the server's own duration_ms beside them (the rest is transport, JSON and the client). The goal on `quick`
// vs the bare tool (≤ 1.5×, issue 17 §1) is judged by health-check-scale; this table shows where a call's time goes.
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import path from 'node:path';
import { benchDir, fmtUs, interleave, loadColumn, median, ratio, scaled } from './lib/measure.js';

async function connect(args) {
  const transport = new StdioClientTransport({ command: process.execPath, args, stderr: 'ignore' });
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  return client;
}

export async function run() {
  const ours = await connect([path.join(benchDir, '../bin/overnight.js'), 'serve']);
  const bare = await connect([path.join(benchDir, 'fixtures/bare-sdk-server.js')]);
  try {
    const serverMs = { quick: [], full: [] };
    const check = (checkType) => async () => {
      const r = await ours.callTool({ name: 'healthCheck', arguments: { checkType } });
      serverMs[checkType].push(r.structuredContent.duration_ms);
    };
    const rounds = scaled(10);
    const per = 30;
    const r = await interleave(
      {
        quick: check('quick'),
        full: check('full'),
        bare: () => bare.callTool({ name: 'ping', arguments: {} }),
      },
      { rounds, perRound: per, warmup: 10 },
    );
    const server = (k) => `${median(serverMs[k]).toFixed(3)} ms`;
    return {
      title: 'healthCheck round trip through @modelcontextprotocol/client over stdio, vs a bare SDK server',
      head: ['call', 'median', 'p99', 'server-side duration_ms (median)', 'vs bare SDK tool', 'load (1 min)'],
      rows: [
        [
          'healthCheck quick',
          fmtUs(r.quick.medianUs),
          fmtUs(r.quick.p99Us),
          server('quick'),
          ratio(r.quick.medianUs, r.bare.medianUs),
          loadColumn(r.load),
        ],
        [
          'healthCheck full',
          fmtUs(r.full.medianUs),
          fmtUs(r.full.p99Us),
          server('full'),
          ratio(r.full.medianUs, r.bare.medianUs),
          loadColumn(r.load),
        ],
        [
          'bare SDK v2 server, trivial `ping` tool',
          fmtUs(r.bare.medianUs),
          fmtUs(r.bare.p99Us),
          '',
          '1.00x',
          loadColumn(r.load),
        ],
      ],
      notes: [
        `median of ${rounds} interleaved round medians of ${per} calls each (p99 over all ${r.quick.n} calls ` +
          `of a case)`,
        'full includes an async scan of the whole process table and probe runs; GPU sampling is skipped when ' +
          'no NVIDIA driver is present',
      ],
      load: r.load,
      targets: [],
      raw: { ...r, serverMs: { quick: median(serverMs.quick), full: median(serverMs.full) } },
    };
  } finally {
    await ours.close();
    await bare.close();
  }
}
