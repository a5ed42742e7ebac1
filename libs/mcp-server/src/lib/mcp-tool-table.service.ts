import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { ProtocolError, ProtocolErrorCode, type CallToolResult, type Tool } from '@modelcontextprotocol/server';
import { ANONYMOUS_PRINCIPAL, AuthAuditService, AuthContextService, AuthError, RequestAuthenticatorService, hasScopes, type Principal } from '@crossauth/auth';
import { z, type ZodType } from 'zod';
import { McpMetricsService } from './mcp-metrics.service';
import { McpToolRegistry, type ToolDefinition } from './mcp-tool-registry.service';
import type { McpCallAuth } from './mcp-call-auth';
import { ToolError } from './tool-error';
import { tokenArgument, toToolResult, toolCallParamsProblem, type McpTransportKind } from './tool-call';

interface TableEntry {
  readonly definition: ToolDefinition;
  readonly listing: Tool;
  readonly input: ZodType;
}

/**
 * Every tool's listing and argument schema, built once from the registry, and
 * the `tools/list` and `tools/call` answers both protocol eras give from it:
 * one list (only what the caller's scopes allow, over HTTP), one argument
 * check, one call path. Protected tools take the `token` argument stdio
 * clients need, so both eras and both transports list the same schema.
 */
@Injectable()
export class McpToolTable {
  private readonly logger = new Logger(McpToolTable.name);
  private built: Map<string, TableEntry> | undefined;

  constructor(
    private readonly registry: McpToolRegistry,
    private readonly authenticator: RequestAuthenticatorService,
    private readonly context: AuthContextService,
    private readonly audit: AuthAuditService,
    private readonly metrics: McpMetricsService,
  ) {}

  private get entries(): Map<string, TableEntry> {
    // Tools are discovered at module init; the first request comes after.
    this.built ??= this.build();
    return this.built;
  }

  private build(): Map<string, TableEntry> {
    const table = new Map<string, TableEntry>();
    for (const tool of this.registry.list()) {
      const input = tool.isPublic ? tool.input : tool.input.extend({ token: tokenArgument });
      const listing = {
        name: tool.name,
        description: tool.description,
        inputSchema: { type: 'object', ...z.toJSONSchema(input, { target: 'draft-2020-12', io: 'input' }) },
        ...(tool.annotations ? { annotations: tool.annotations } : {}),
      } as Tool;
      table.set(tool.name, { definition: tool, listing, input });
    }
    return table;
  }

  /** The tools a caller may see: over HTTP those its scopes allow; over stdio, where identity comes per call, all. */
  list(kind: McpTransportKind, principal: Principal | undefined): Tool[] {
    const out: Tool[] = [];
    for (const entry of this.entries.values()) if (kind === 'stdio' || this.allows(entry.definition, principal)) out.push(entry.listing);
    return out;
  }

  /**
   * Answers a `tools/call`: malformed params and unknown tools are JSON-RPC
   * errors (thrown as the SDK's `ProtocolError`), arguments that do not fit
   * the schema are a tool error naming the field, everything else runs
   * through {@link callTool}.
   */
  async call(params: unknown, kind: McpTransportKind, auth: McpCallAuth | undefined): Promise<CallToolResult> {
    const problem = toolCallParamsProblem(params);
    if (problem) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Invalid params: ${problem}`);
    const { name, arguments: args } = params as { name: string; arguments?: Record<string, unknown> };
    const entry = this.entries.get(name);
    if (!entry) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Tool ${name} not found`);
    const parsed = entry.input.safeParse(args ?? {});
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join(', ');
      return { content: [{ type: 'text', text: `Input validation error: Invalid arguments for tool ${name}: ${issues}` }], isError: true };
    }
    return this.callTool(entry.definition, parsed.data as Record<string, unknown>, kind, auth);
  }

  /** Whether a principal may see and call a tool. */
  allows(tool: ToolDefinition, principal: Principal | undefined): boolean {
    return tool.isPublic || (principal !== undefined && hasScopes(principal, tool.scopes));
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
