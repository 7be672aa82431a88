/**
 * The engines behind the tools, created once per process and shared by every MCP server instance
 * (the HTTP transport makes one server per request; the engines and their histories stay).
 */
import { parseConfig } from '../config/load.js';
import type { OvernightConfig } from '../config/schema.js';
import { HealthMonitor, type HealthMonitorOptions } from '../health/health-monitor.js';

export interface OvernightContext {
  config: OvernightConfig & { stateDir: string };
  health: HealthMonitor;
  /** Stops background work (sampling, probes). */
  close(): Promise<void>;
}

export interface ContextOptions {
  config?: OvernightConfig & { stateDir: string };
  health?: Omit<HealthMonitorOptions, 'config'>;
  /** Sample in the background so sustain windows have history (servers and monitors do). */
  background?: boolean;
}

export function createOvernightContext(options: ContextOptions = {}): OvernightContext {
  const config = options.config ?? parseConfig({});
  const health = new HealthMonitor({ ...options.health, config });
  if (options.background) health.start();
  return {
    config,
    health,
    async close() {
      health.stop();
    },
  };
}
