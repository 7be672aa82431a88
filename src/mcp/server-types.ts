/** The part of the SDK's McpServer the tool files use (keeps tool files free of SDK generics). */
import type { z } from 'zod';

export interface ToolConfig {
  title?: string;
  description?: string;
  inputSchema?: z.ZodType;
  outputSchema?: z.ZodType;
  annotations?: {
    title?: string;
    readOnlyHint?: boolean;
    destructiveHint?: boolean;
    idempotentHint?: boolean;
    openWorldHint?: boolean;
  };
}

export interface McpServerLike {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  registerTool(name: string, config: ToolConfig, cb: (args: any, ctx: any) => Promise<any>): unknown;
}
