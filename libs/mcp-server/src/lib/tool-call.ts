import type { CallToolResult } from '@modelcontextprotocol/server';
import { z } from 'zod';

/** Which transport a server instance serves; decides where the caller's identity comes from. */
export type McpTransportKind = 'http' | 'stdio';

/** The `token` argument every protected tool takes, for clients that cannot send a header. */
export const tokenArgument = z
  .string()
  .max(8192)
  .optional()
  .describe('Bearer token, for clients that cannot send an Authorization header (stdio). Over HTTP the header wins.');

/** What is wrong with a `tools/call` request's params, in words, or undefined when their shape is right. */
export function toolCallParamsProblem(params: unknown): string | undefined {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return 'params must be an object with a tool name';
  const { name, arguments: args } = params as { name?: unknown; arguments?: unknown };
  if (typeof name !== 'string' || name === '') return 'params.name must be the tool name as a string';
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
    return `params.arguments must be an object of named arguments, not ${args === null ? 'null' : Array.isArray(args) ? 'an array' : `a ${typeof args}`}`;
  }
  return undefined;
}

/**
 * The answer to a `tools/call` whose params are malformed, or undefined when
 * they are fine. The SDK checks a request against its own schema before any
 * handler runs and would answer with zod's raw issues; callers ask here
 * first, so the caller reads what is wrong in words (-32602).
 */
export function malformedToolCall(message: unknown): { jsonrpc: '2.0'; id: string | number; error: { code: number; message: string } } | undefined {
  const m = message as { method?: unknown; id?: unknown; params?: unknown } | null;
  if (typeof m !== 'object' || m === null || m.method !== 'tools/call' || (typeof m.id !== 'string' && typeof m.id !== 'number')) return undefined;
  const problem = toolCallParamsProblem(m.params);
  return problem ? { jsonrpc: '2.0', id: m.id, error: { code: -32602, message: `Invalid params: ${problem}` } } : undefined;
}

/**
 * A complete MCP tool result to return as is, e.g. one relayed from another
 * MCP server, so its content and `isError` reach the caller intact.
 */
export class RelayedToolResult {
  constructor(readonly result: CallToolResult) {}
}

/** Plain objects become structured content plus a JSON text block; strings stay text. */
export function toToolResult(result: unknown): CallToolResult {
  if (result instanceof RelayedToolResult) return result.result;
  if (typeof result === 'string') return { content: [{ type: 'text', text: result }] };
  if (result !== null && typeof result === 'object' && !Array.isArray(result)) {
    return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result as Record<string, unknown> };
  }
  return { content: [{ type: 'text', text: JSON.stringify(result ?? null) }] };
}
