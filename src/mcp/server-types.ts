/**
 * The part of the SDK's McpServer the tool files use, in the SDK's own types: a tool file can be
 * handed a real McpServer or anything with the same registerTool (the design's HPCServiceFactory
 * takes a server someone already has). Only the standard-schema form of registerTool: the SDK's
 * second overload (raw zod shapes) is deprecated and none of our tools uses it.
 */
import type {
  RegisteredTool,
  ServerContext,
  StandardSchemaWithJSON,
  ToolAnnotations,
  ToolCallback,
} from '@modelcontextprotocol/server';

/** registerTool's config, as the SDK's first overload takes it (the SDK does not export this type). */
export interface ToolConfig<O extends StandardSchemaWithJSON, I extends StandardSchemaWithJSON | undefined> {
  title?: string;
  description?: string;
  inputSchema?: I;
  outputSchema?: O;
  annotations?: ToolAnnotations;
  _meta?: Record<string, unknown>;
}

export interface McpServerLike {
  registerTool<O extends StandardSchemaWithJSON, I extends StandardSchemaWithJSON | undefined = undefined>(
    name: string,
    config: ToolConfig<O, I>,
    cb: ToolCallback<I>,
  ): RegisteredTool;
}

/** What a tool callback receives besides its arguments (cancellation, _meta, notifications). */
export type ToolContext = ServerContext;
