/**
 * The design's service factory: `registerOvernightTools(server, options)` adds the overnight
 * tools to an MCP server someone already has; `createOvernightServer` makes a server with them;
 * `HPCServiceFactory#initializeOvernightTools()` is the design's spelling of the same.
 * One file per tool under tools/.
 */
import { McpServer, type RegisteredTool } from '@modelcontextprotocol/server';
import { createRequire } from 'node:module';
import { createOvernightContext, type ContextOptions, type OvernightContext } from '../context.js';
import type { McpServerLike } from './server-types.js';
import { registerHealthCheck } from './tools/health-check.js';
import { registerRecoverOperation } from './tools/recover-operation.js';
import { registerTrackProgress } from './tools/track-progress.js';
import { registerManageResources } from './tools/manage-resources.js';
import { registerOvernightResources } from './resources.js';
import { registerEventLogging } from './logging.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { name: string; version: string };

export const SERVER_INFO = { name: pkg.name, version: pkg.version } as const;

/** Adds the overnight tools to `server`. */
export function registerOvernightTools(server: McpServerLike, context: OvernightContext): void {
  registerHealthCheck(server, context.health);
  registerRecoverOperation(server, context.recovery, context.health.toolCalls);
  registerTrackProgress(server, context.progress, context.health.toolCalls);
  registerManageResources(server, context.resources, context.health.toolCalls);
}

/** Each output schema's JSON Schema, converted once per process (see sharingSchemaJson). */
const outputSchemaJson = new WeakMap<object, Record<string, unknown>>();

/**
 * The SDK converts a tool's zod output schema to JSON Schema on the first call of each server
 * instance (healthCheck's: 5-17 ms on these machines). `serve --http` keeps a pool of instances,
 * and a burst of new clients made each new one pay it on the request path; the schemas are
 * module constants, so one conversion serves every instance.
 */
function sharingSchemaJson(server: McpServer): McpServerLike {
  return {
    registerTool(name, config, cb) {
      const tool = server.registerTool(name, config, cb);
      const shared = tool as RegisteredTool & { outputSchemaJson?: Record<string, unknown> };
      const schema = config.outputSchema;
      if (schema) {
        const json = outputSchemaJson.get(schema);
        if (json) shared.outputSchemaJson = json;
        else if (shared.outputSchemaJson) outputSchemaJson.set(schema, shared.outputSchemaJson);
      }
      return tool;
    },
  };
}

export function createOvernightServer(context: OvernightContext): McpServer {
  const server = new McpServer(SERVER_INFO, {
    capabilities: { tools: {}, resources: {}, logging: {} },
    instructions:
      'overnight-ops watches this node while you work unattended. Call healthCheck (quick) periodically; act on its ' +
      'recommendations; run healthCheck "recovery" after any recovery.',
  });
  registerOvernightTools(sharingSchemaJson(server), context);
  registerOvernightResources(server, context);
  registerEventLogging(server, context);
  return server;
}

/** The design's HPCServiceFactory: holds the engines and registers the overnight tools. */
export class HPCServiceFactory {
  context: OvernightContext | undefined;
  constructor(
    private readonly server: McpServerLike,
    private readonly options: ContextOptions = {},
  ) {}

  /** Creates the engines (HealthMonitor, ...) and registers the tools on the server. */
  async initializeOvernightTools(): Promise<OvernightContext> {
    this.context ??= await createOvernightContext(this.options);
    registerOvernightTools(this.server, this.context);
    return this.context;
  }

  get healthMonitor() {
    return this.context?.health;
  }

  get recoveryManager() {
    return this.context?.recovery;
  }

  get progressTracker() {
    return this.context?.progress;
  }

  get resourceManager() {
    return this.context?.resources;
  }
}
