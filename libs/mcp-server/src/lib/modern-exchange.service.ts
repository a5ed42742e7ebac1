import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import {
  ProtocolErrorCode,
  SERVER_INFO_META_KEY,
  UnsupportedProtocolVersionError,
  type JSONRPCNotification,
  type JSONRPCRequest,
} from '@modelcontextprotocol/server';
import type { Principal } from '@crossauth/auth';
import { z, type ZodType } from 'zod';
import { MCP_MODULE_OPTIONS, type McpServerModuleOptions } from './mcp-options';
import { McpServerFactory, tokenArgument, toolCallParamsProblem } from './mcp-server.factory';
import { McpToolRegistry, type ToolDefinition } from './mcp-tool-registry.service';
import type { McpCallAuth } from './mcp-call-auth';

/** The 2026-07-28 revision: the only per-request (modern) revision served. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28';

/** What a modern exchange answers: an HTTP status and a JSON body, or none (202). */
export interface ModernAnswer {
  readonly status: number;
  readonly body?: Record<string, unknown>;
}

/** The standard request headers of SEP-2243, as received (undefined when absent). */
export interface StandardHeaders {
  readonly protocolVersionHeader?: string;
  readonly mcpMethodHeader?: string;
  readonly mcpNameHeader?: string;
}

interface ListedTool {
  readonly definition: ToolDefinition;
  readonly listing: Record<string, unknown>;
  readonly input: ZodType;
}

/** Methods whose `params` field the `Mcp-Name` header must mirror (SEP-2243); crossauth serves only tools. */
const NAME_HEADER_SOURCE: Readonly<Record<string, string>> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

/**
 * Serves MCP 2026-07-28 requests (one POST, one answer, no session) from a
 * tool table built once at start-up: no SDK server or transport is built per
 * request, which is what `createMcpHandler` does and what would cost more
 * than the auth in front of it. Era routing, envelope validation and the
 * header/body cross-checks come from the SDK's own `classifyInboundRequest`
 * (in the controller); this class answers what is left, with the wire shapes
 * the SDK's `McpServer` produces (`resultType`, cache fields, `serverInfo`),
 * which the mcp-server spec pins against the SDK itself.
 */
@Injectable()
export class McpModernExchange implements OnApplicationBootstrap {
  private tools = new Map<string, ListedTool>();
  private readonly serverInfo: { name: string; version: string };

  constructor(
    private readonly registry: McpToolRegistry,
    private readonly factory: McpServerFactory,
    @Inject(MCP_MODULE_OPTIONS) private readonly options: McpServerModuleOptions,
  ) {
    this.serverInfo = { name: options.name, version: options.version };
  }

  onApplicationBootstrap(): void {
    this.build();
  }

  /** Builds the tool table; tools are discovered at module init, so this runs once after. */
  build(): void {
    const tools = new Map<string, ListedTool>();
    for (const tool of this.registry.list()) {
      // The same arguments as the 2025 era, `token` included, so both eras list one schema.
      const input = tool.isPublic ? tool.input : tool.input.extend({ token: tokenArgument });
      const listing: Record<string, unknown> = {
        name: tool.name,
        description: tool.description,
        inputSchema: { type: 'object', ...z.toJSONSchema(input, { target: 'draft-2020-12', io: 'input' }) },
        ...(tool.annotations ? { annotations: tool.annotations } : {}),
      };
      tools.set(tool.name, { definition: tool, listing, input });
    }
    this.tools = tools;
  }

  /**
   * The standard-header rules the SDK's classifier leaves to the serving
   * layer (a classifier given only the body must still route it):
   * `MCP-Protocol-Version` and `Mcp-Method` on every request, and an
   * `Mcp-Name` that names what the body names (SEP-2243). Disagreeing
   * version and method headers were refused by the classifier already.
   */
  headerProblem(message: JSONRPCRequest, headers: StandardHeaders): ModernAnswer | undefined {
    const mismatch = (header: string, body: string): ModernAnswer =>
      error(400, message.id, -32020, `Bad Request: the request headers and body disagree: ${body}`, { mismatch: { header, body } });
    if (headers.protocolVersionHeader === undefined) return mismatch('(missing)', 'the required MCP-Protocol-Version header is absent');
    if (headers.mcpMethodHeader === undefined) return mismatch('(missing)', `the body names method ${message.method} but the required Mcp-Method header is absent`);
    const field = Object.hasOwn(NAME_HEADER_SOURCE, message.method) ? NAME_HEADER_SOURCE[message.method] : undefined;
    if (field === undefined) return undefined;
    const raw = isObject(message.params) ? message.params[field] : undefined;
    const value = typeof raw === 'string' ? raw : undefined;
    if (headers.mcpNameHeader === undefined) {
      return value === undefined ? undefined : mismatch('(missing)', `the body carries params.${field}="${value}" but the required Mcp-Name header is absent`);
    }
    const header = headers.mcpNameHeader.trim();
    const named = decodeHeaderValue(header);
    if (named === undefined) return mismatch(header, 'the Mcp-Name header carries an invalid Base64 sentinel value');
    if (value !== undefined && named !== value) return mismatch(header, `the body carries params.${field}="${value}" but the Mcp-Name header names "${named}"`);
    return undefined;
  }

  /** Answers one classified modern message for an authenticated caller. */
  async answer(message: JSONRPCRequest | JSONRPCNotification, revision: string | undefined, auth: McpCallAuth): Promise<ModernAnswer> {
    const id = 'id' in message ? message.id : undefined;
    if (revision !== MODERN_PROTOCOL_VERSION) {
      const refusal = new UnsupportedProtocolVersionError({ supported: [MODERN_PROTOCOL_VERSION], requested: revision ?? 'unknown' });
      return error(400, id ?? null, refusal.code, refusal.message, refusal.data);
    }
    // Notifications (e.g. notifications/cancelled) have nothing to cancel here: every answer is immediate.
    if (id === undefined) return { status: 202 };
    switch (message.method) {
      case 'server/discover':
        return this.result(id, {
          supportedVersions: [MODERN_PROTOCOL_VERSION],
          capabilities: { tools: { listChanged: false } },
          ...(this.options.instructions ? { instructions: this.options.instructions } : {}),
          ttlMs: 0,
          cacheScope: 'private',
        });
      case 'tools/list':
        return this.result(id, { tools: this.visibleTo(auth.principal), ttlMs: 0, cacheScope: 'private' });
      case 'tools/call':
        return this.call(id, message.params, auth);
      default:
        return error(404, id, ProtocolErrorCode.MethodNotFound, 'Method not found');
    }
  }

  private visibleTo(principal: Principal): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const tool of this.tools.values()) if (this.factory.allows(tool.definition, principal)) out.push(tool.listing);
    return out;
  }

  private async call(id: JSONRPCRequest['id'], params: unknown, auth: McpCallAuth): Promise<ModernAnswer> {
    const problem = toolCallParamsProblem(params);
    if (problem) return error(200, id, ProtocolErrorCode.InvalidParams, `Invalid params: ${problem}`);
    const { name, arguments: args } = params as { name: string; arguments?: Record<string, unknown> };
    const tool = this.tools.get(name);
    if (!tool) return error(200, id, ProtocolErrorCode.InvalidParams, `Tool ${name} not found`);
    const parsed = tool.input.safeParse(args ?? {});
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join(', ');
      return this.result(id, { content: [{ type: 'text', text: `Input validation error: Invalid arguments for tool ${name}: ${issues}` }], isError: true });
    }
    const result = await this.factory.callTool(tool.definition, parsed.data as Record<string, unknown>, 'http', auth);
    return this.result(id, { ...result });
  }

  private result(id: JSONRPCRequest['id'], result: Record<string, unknown>): ModernAnswer {
    const meta = isObject(result['_meta']) ? result['_meta'] : {};
    return { status: 200, body: { jsonrpc: '2.0', id, result: { ...result, resultType: 'complete', _meta: { ...meta, [SERVER_INFO_META_KEY]: this.serverInfo } } } };
  }
}

const BASE64_CANONICAL = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A header value as sent, or the UTF-8 text of a `=?base64?…?=` sentinel; undefined when the sentinel is not canonical Base64 UTF-8. */
function decodeHeaderValue(value: string): string | undefined {
  if (!(value.startsWith('=?base64?') && value.endsWith('?='))) return value;
  const b64 = value.slice(9, -2);
  if (!BASE64_CANONICAL.test(b64)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(b64, 'base64'));
  } catch {
    return undefined;
  }
}

function error(status: number, id: JSONRPCRequest['id'] | null, code: number, message: string, data?: unknown): ModernAnswer {
  return { status, body: { jsonrpc: '2.0', id, error: { code, message, ...(data !== undefined ? { data } : {}) } } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
