/**
 * MCP resources over the node's history: overnight://events (the recent events, newest first) and
 * overnight://report (the JSON the morning report is drawn from, for the last 12 hours).
 */
import type { McpServer } from '@modelcontextprotocol/server';
import { buildNightReport } from '../report/report-data.js';
import type { OvernightContext } from '../context.js';

const WINDOW_MS = 12 * 3600_000;

export function registerOvernightResources(server: McpServer, ctx: OvernightContext): void {
  server.registerResource(
    'events',
    'overnight://events',
    {
      title: 'Node events',
      description:
        "The node's event history of the last 12 hours, newest first: kernel log (Xid, OOM kills, hung tasks, I/O " +
        'errors, ...), NVML events, boots, alerts. JSON array.',
      mimeType: 'application/json',
    },
    async (uri) => {
      const list = ctx.events.list({ sinceMs: ctx.clock.now() - WINDOW_MS, limit: 1000 });
      const json = list.map((e) => ({
        time: new Date(e.timeMs).toISOString(),
        source: e.source,
        kind: e.kind,
        severity: e.severity,
        message: e.message,
        subject: e.subject,
      }));
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(json) }] };
    },
  );
  server.registerResource(
    'report',
    'overnight://report',
    {
      title: 'Night report',
      description:
        "The morning report's data for the last 12 hours: summary, series (metric history), events, recoveries, " +
        'tasks, alerts. JSON object.',
      mimeType: 'application/json',
    },
    async (uri) => {
      const report = await buildNightReport(
        { db: ctx.db, events: ctx.events, history: ctx.history, progress: ctx.progress, config: ctx.config },
        ctx.clock.now() - WINDOW_MS,
        ctx.clock.now(),
      );
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(report) }] };
    },
  );
}
