import { Inject, Injectable } from '@nestjs/common';
import {
  ProtocolError,
  ProtocolErrorCode,
  SERVER_INFO_META_KEY,
  UnsupportedProtocolVersionError,
  type JSONRPCNotification,
  type JSONRPCRequest,
} from '@modelcontextprotocol/server';
import { MCP_MODULE_OPTIONS, type McpServerModuleOptions } from './mcp-options';
import { McpToolTable } from './mcp-tool-table.service';
import { serverCapabilities } from './mcp-server.factory';
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

/** Methods whose `params` field the `Mcp-Name` header must mirror (SEP-2243); crossauth serves only tools. */
const NAME_HEADER_SOURCE: Readonly<Record<string, string>> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

/**
 * Serves MCP 2026-07-28 requests (one POST, one answer, no session) from the
 * {@link McpToolTable} built once at start-up: no SDK server or transport is
 * built per request, which is what `createMcpHandler` does and what would
 * cost more than the auth in front of it. Era routing, envelope validation and the
 * header/body cross-checks come from the SDK's own `classifyInboundRequest`
 * (in the controller); this class answers what is left, with the wire shapes
 * the SDK's `McpServer` produces (`resultType`, cache fields, `serverInfo`),
 * which the mcp-server spec pins against the SDK itself.
 */
@Injectable()
export class McpModernExchange {
  private readonly serverInfo: { name: string; version: string };
  private readonly capabilities: ReturnType<typeof serverCapabilities>;

  constructor(
    private readonly table: McpToolTable,
    @Inject(MCP_MODULE_OPTIONS) private readonly options: McpServerModuleOptions,
  ) {
    this.serverInfo = { name: options.name, version: options.version };
    this.capabilities = serverCapabilities(options);
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
    if (headers.mcpMethodHeader === undefined)
      return mismatch('(missing)', `the body names method ${message.method} but the required Mcp-Method header is absent`);
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
          capabilities: this.capabilities,
          ...(this.options.instructions ? { instructions: this.options.instructions } : {}),
          ttlMs: 0,
          cacheScope: 'private',
        });
      case 'tools/list':
        return this.result(id, { tools: this.table.list('http', auth.principal), ttlMs: 0, cacheScope: 'private' });
      case 'tools/call':
        return this.call(id, message.params, auth);
      default:
        return error(404, id, ProtocolErrorCode.MethodNotFound, 'Method not found');
    }
  }

  private async call(id: JSONRPCRequest['id'], params: unknown, auth: McpCallAuth): Promise<ModernAnswer> {
    try {
      return this.result(id, { ...(await this.table.call(params, 'http', auth)) });
    } catch (failure) {
      if (failure instanceof ProtocolError) return error(200, id, failure.code, failure.message);
      throw failure;
    }
  }

  private result(id: JSONRPCRequest['id'], result: Record<string, unknown>): ModernAnswer {
    const meta = isObject(result['_meta']) ? result['_meta'] : {};
    return {
      status: 200,
      body: { jsonrpc: '2.0', id, result: { ...result, resultType: 'complete', _meta: { ...meta, [SERVER_INFO_META_KEY]: this.serverInfo } } },
    };
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
