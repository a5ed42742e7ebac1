import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js';
import { ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult, type ListToolsResult } from '@modelcontextprotocol/sdk/types.js';
import {
  ANONYMOUS_PRINCIPAL,
  AuthAuditService,
  AuthContextService,
  AuthError,
  RequestAuthenticatorService,
  hasScopes,
  type Principal,
} from '@crossauth/auth';
import { z } from 'zod';
import { McpMetricsService } from './mcp-metrics.service';
import { MCP_MODULE_OPTIONS, type McpServerModuleOptions } from './mcp-options';
import { McpToolRegistry, type ToolDefinition } from './mcp-tool-registry.service';
import { ToolError } from './tool-error';
import { callAuthOf, type McpCallAuth } from './mcp-call-auth';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';

/** Which transport a server instance serves; decides where the caller's identity comes from. */
export type McpTransportKind = 'http' | 'stdio';

type RequestHandler = (request: unknown, extra: unknown) => Promise<unknown>;

/** The `token` argument every protected tool takes, for clients that cannot send a header. */
export const tokenArgument = z
  .string()
  .max(8192)
  .optional()
  .describe('Bearer token, for clients that cannot send an Authorization header (stdio). Over HTTP the header wins.');

/**
 * Builds SDK `McpServer` instances with every discovered tool registered
 * behind the per-tool auth check. Over HTTP the caller was authenticated by
 * the guard and arrives with the request (the SDK's `authInfo`); over stdio each call
 * brings its token as the `token` argument, stripped before the handler runs.
 */
@Injectable()
export class McpServerFactory {
  private readonly logger = new Logger(McpServerFactory.name);

  constructor(
    private readonly registry: McpToolRegistry,
    private readonly authenticator: RequestAuthenticatorService,
    private readonly context: AuthContextService,
    private readonly audit: AuthAuditService,
    private readonly metrics: McpMetricsService,
    @Inject(MCP_MODULE_OPTIONS) private readonly options: McpServerModuleOptions,
  ) {}

  // One for the app: each SDK Server otherwise builds its own Ajv (~230 µs of CPU), once per
  // session and, stateless, once per request. It only compiles elicitation schemas.
  private readonly schemaValidator = new AjvJsonSchemaValidator();

  create(kind: McpTransportKind): McpServer {
    const server = new McpServer(
      { name: this.options.name, version: this.options.version },
      { capabilities: { tools: { listChanged: false } }, instructions: this.options.instructions, jsonSchemaValidator: this.schemaValidator },
    );
    for (const tool of this.registry.list()) {
      const inputSchema = tool.isPublic ? tool.input : tool.input.extend({ token: tokenArgument });
      server.registerTool(
        tool.name,
        { description: tool.description, inputSchema, annotations: tool.annotations },
        (args: Record<string, unknown>, extra: { authInfo?: AuthInfo }) => this.callTool(tool, args, kind, callAuthOf(extra)),
      );
    }
    this.filterToolList(server, kind);
    checkToolCallParams(server);
    return server;
  }

  /** Whether a principal may see and call a tool. */
  allows(tool: ToolDefinition, principal: Principal | undefined): boolean {
    return tool.isPublic || (principal !== undefined && hasScopes(principal, tool.scopes));
  }

  private filterToolList(server: McpServer, kind: McpTransportKind): void {
    // McpServer installs its own tools/list handler; wrap it so each caller sees
    // only the tools its scopes allow. The SDK keeps handlers in a private map
    // (1.x); the mcp-server spec fails loudly if that ever changes.
    const handlers = (server.server as unknown as { _requestHandlers: Map<string, RequestHandler> })._requestHandlers;
    const original = handlers.get('tools/list');
    if (!original) throw new Error('SDK did not install a tools/list handler');
    server.server.setRequestHandler(ListToolsRequestSchema, async (request, extra) => {
      const result = (await original(request, extra)) as ListToolsResult;
      // Over stdio identity arrives per call, so the full list is shown.
      if (kind === 'stdio') return result;
      const principal = callAuthOf(extra)?.principal;
      return { ...result, tools: result.tools.filter((t) => this.allows(this.registry.get(t.name) as ToolDefinition, principal)) };
    });
  }

  /**
   * Runs a tool for a caller, with validated arguments: the per-tool auth
   * check, audit, metrics and error mapping every transport and era shares.
   */
  async callTool(tool: ToolDefinition, args: Record<string, unknown>, kind: McpTransportKind, state: McpCallAuth | undefined): Promise<CallToolResult> {
    const { token, ...input } = args;
    const target = `tools/call:${tool.name}`;
    const requestId = state?.requestId;
    let principal: Principal;
    try {
      if (kind === 'http') {
        // Set by the HTTP controller from the guard's result; absent means a wiring error, so fail closed.
        if (!state) throw new AuthError('missing', 'no caller attached to an HTTP call');
        principal = state.principal;
        if (typeof token === 'string' && token !== '' && !state.matchesPresentedToken?.(token)) {
          throw new AuthError('malformed', 'token argument differs from the Authorization header');
        }
      } else if (tool.isPublic && (token === undefined || token === '')) {
        principal = ANONYMOUS_PRINCIPAL;
      } else {
        principal = this.authenticator.authenticateToken(typeof token === 'string' ? token : undefined).principal;
      }
      if (!tool.isPublic) this.authenticator.authorize(principal, tool.scopes);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      this.audit.record({ outcome: 'deny', reason: error.reason, target, transport: kind, subject: state?.principal.subject, detail: error.detail, requestId });
      this.metrics.observeTool(tool.name, 'denied', 0);
      return { isError: true, content: [{ type: 'text', text: error.toolMessage }], _meta: { reason: error.reason } };
    }
    this.audit.record({
      outcome: 'allow',
      reason: principal.anonymous ? 'anonymous' : 'ok',
      subject: principal.subject,
      issuer: principal.issuer,
      actor: principal.actor,
        ...(principal.actors && principal.actors.length > 1 ? { actors: principal.actors } : {}),
      scopes: principal.scopes,
      target,
      transport: kind,
      requestId,
    });
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    try {
      const run = () => tool.invoke(input, principal);
      const result = kind === 'stdio' ? await this.context.run({ principal, transport: 'stdio' }, run) : await run();
      const converted = toToolResult(result);
      this.metrics.observeTool(tool.name, converted.isError ? 'tool_error' : 'ok', elapsed());
      return converted;
    } catch (error) {
      if (error instanceof ToolError) {
        this.metrics.observeTool(tool.name, 'tool_error', elapsed());
        return { isError: true, content: [{ type: 'text', text: error.message }], _meta: { code: error.code } };
      }
      this.metrics.observeTool(tool.name, 'internal_error', elapsed());
      const ref = randomUUID();
      this.logger.error({ event: 'tool_failed', tool: tool.name, ref, error: error instanceof Error ? error.stack : String(error) });
      return { isError: true, content: [{ type: 'text', text: `Internal error in ${tool.name} (ref ${ref})` }] };
    }
  }
}

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
 * The SDK parses a request against its schema before any handler runs and
 * reports a mismatch as -32603 with zod's raw issues; a malformed `tools/call`
 * is the caller's error, so it is answered here first as -32602 in words.
 * The handler map is private in SDK 1.x, as in filterToolList.
 */
function checkToolCallParams(server: McpServer): void {
  const handlers = (server.server as unknown as { _requestHandlers: Map<string, RequestHandler> })._requestHandlers;
  const original = handlers.get('tools/call');
  if (!original) throw new Error('SDK did not install a tools/call handler');
  handlers.set('tools/call', (request, extra) => {
    const problem = toolCallParamsProblem((request as { params?: unknown }).params);
    if (problem) return Promise.reject(new McpError(ErrorCode.InvalidParams, `Invalid params: ${problem}`));
    return original(request, extra);
  });
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
