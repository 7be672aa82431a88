/**
 * The part of the SDK's McpServer the tool files use, in the SDK's own types: a tool file can be
 * handed a real McpServer or anything with the same registerTool (the design's HPCServiceFactory
 * takes a server someone already has).
 */
import type { McpServer, ServerContext } from '@modelcontextprotocol/server';

export type McpServerLike = Pick<McpServer, 'registerTool'>;

/** What a tool callback receives besides its arguments (cancellation, _meta, notifications). */
export type ToolContext = ServerContext;
