import { SetMetadata } from '@nestjs/common';
import type { ZodObject, ZodRawShape } from 'zod';

export const MCP_TOOL_METADATA = 'crossauth:mcp-tool';

/** How a tool is declared on a provider method. */
export interface McpToolOptions {
  /** The MCP tool name (snake_case by convention; the predecessors' names are kept). */
  readonly name: string;
  readonly description: string;
  /** Zod object schema of the arguments; limits belong here. */
  readonly input?: ZodObject<ZodRawShape>;
  /** Scopes the caller needs. Empty means "any authenticated caller". */
  readonly scopes?: readonly string[];
  /**
   * Reachable without authentication. Tools are protected unless this is set:
   * forgetting it fails closed.
   */
  readonly public?: boolean;
  readonly annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean };
}

/**
 * Declares a method of an `@Injectable()` provider as an MCP tool. The method
 * receives the validated input and the caller's typed `Principal`, never a token:
 * `async start(input: StartInput, principal: Principal)`.
 */
export const McpTool = (options: McpToolOptions): MethodDecorator => SetMetadata(MCP_TOOL_METADATA, options);
