/**
 * healthCheck — the design's "Comprehensive system health check". Read-only.
 */
import { z } from 'zod';
import type { HealthMonitor } from '../../health/health-monitor.js';
import {
  boundedNumber,
  enumOf,
  fractionArg,
  instrumented,
  okRepeated,
  progressReporter,
  strictShape,
} from '../tool-kit.js';
import type { McpServerLike, ToolContext } from '../server-types.js';
import { healthCheckOutput, healthCheckOutputSchema } from './health-check-output.js';

export { healthCheckOutput };

export const healthCheckInput = strictShape(
  {
    checkType: enumOf(
      ['quick', 'full', 'recovery'],
      'quick: cheap signals only (memory, load, PSI, cgroup limit, GPU memory/utilization/temperature), ' +
        'sub-millisecond on the server. full: everything — per-GPU verdicts and Xids, disks, top processes by memory ' +
        'and CPU, leak and hang suspects. recovery: a full check compared with the state before the last ' +
        'recoverOperation; says whether the problem is gone. Default quick.',
    ).optional(),
    thresholds: strictShape(
      {
        memory: fractionArg(
          'thresholds.memory',
          'Memory in use that counts as degraded, as a fraction of capacity in (0, 1] (the tighter of host memory ' +
            'and the cgroup limit). Default from the configuration (0.8).',
        ).optional(),
        gpu: fractionArg(
          'thresholds.gpu',
          "GPU memory in use that counts as degraded, fraction of each GPU's memory in (0, 1]. Default 0.8.",
        ).optional(),
        responseTime: boundedNumber(
          'thresholds.responseTime',
          1,
          3_600_000,
          'milliseconds',
          "p95 latency (ms) of this server's tool calls and configured probes above which the node counts as " +
            'degraded. Default 2000.',
        ).optional(),
        disk: fractionArg(
          'thresholds.disk',
          'Extra (not in the original design): filesystem usage (bytes or inodes) that counts as degraded, fraction ' +
            'in (0, 1]. Default 0.9.',
        ).optional(),
      },
      'thresholds',
    )
      .optional()
      .describe(
        'Limits for this call; omitted ones come from the configuration. A breach must hold over the sustain window, ' +
          'and clears with hysteresis.',
      ),
  },
  'arguments',
);

export function registerHealthCheck(server: McpServerLike, health: HealthMonitor): void {
  server.registerTool(
    'healthCheck',
    {
      title: 'Node health check',
      description:
        'Comprehensive system health check of this node: memory (host and cgroup), CPU, pressure, disks, GPUs ' +
        '(NVML), tool-call and probe latencies and error rates, and recovery status; "full" also checks InfiniBand ' +
        "ports, required mounts and daemons, zombies, file descriptors and the operator's own checks. Returns status " +
        'healthy | degraded | critical, the breached thresholds with observed values, and recommendations naming the ' +
        'process, GPU or path and the tool call that would fix it. Call "quick" often (it is cheap), "full" when ' +
        'something looks wrong, and "recovery" after recoverOperation. "quick" may reuse readings up to one sampler ' +
        'tick (at most 1 s) old and reports their age in sample_age_ms.',
      inputSchema: healthCheckInput,
      outputSchema: healthCheckOutputSchema,
      annotations: {
        title: 'Node health check',
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    instrumented(health.toolCalls, 'healthCheck', async (args: z.infer<typeof healthCheckInput>, ctx: ToolContext) => {
      const progress = progressReporter(ctx);
      const report = await health.checkSystemHealth(args.checkType ?? 'quick', args.thresholds, {
        ...(ctx?.mcpReq?.signal ? { signal: ctx.mcpReq.signal } : {}),
        ...(progress.report ? { onProgress: progress.report } : {}),
      });
      await progress.flush();
      return okRepeated(report);
    }),
  );
}
