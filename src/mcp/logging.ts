/**
 * MCP logging notifications (notifications/message) for new warning and critical events, sent only
 * once the client has chosen a level with logging/setLevel, and only at or above it.
 */
import type { McpServer } from '@modelcontextprotocol/server';
import type { NodeEvent } from '../events/types.js';
import type { OvernightContext } from '../context.js';

const SEVERITY = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const;
type Level = (typeof SEVERITY)[number];

const levelOf = (e: NodeEvent): Level =>
  e.severity === 'critical' ? 'critical' : e.severity === 'warning' ? 'warning' : 'info';

export function registerEventLogging(server: McpServer, ctx: OvernightContext): void {
  let chosen: Level | null = null;
  // Replaces the SDK's own setLevel handler so that nothing is sent before the client asked.
  server.server.setRequestHandler('logging/setLevel', async (request) => {
    const level = request.params.level;
    if (SEVERITY.includes(level)) chosen = level;
    return {};
  });
  const off = ctx.events.onEvent((e) => {
    if (e.severity === 'info' || chosen === null) return;
    const level = levelOf(e);
    if (SEVERITY.indexOf(level) < SEVERITY.indexOf(chosen)) return;
    if (!server.isConnected()) return;
    void server
      /* eslint-disable-next-line @typescript-eslint/no-deprecated --
         MCP logging is this feature; clients of the current protocol still use it */
      .sendLoggingMessage({
        level,
        logger: `overnight.${e.source}`,
        data: {
          time: new Date(e.timeMs).toISOString(),
          source: e.source,
          kind: e.kind,
          severity: e.severity,
          message: e.message,
          subject: e.subject,
        },
      })
      .catch(() => undefined);
  });
  const prev = server.server.onclose;
  server.server.onclose = () => {
    off();
    prev?.();
  };
}
