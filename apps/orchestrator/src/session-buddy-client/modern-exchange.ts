import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { PlainAnswer } from './http-fetch';

/** The MCP revision whose requests stand alone: one POST, no handshake, no session. */
export const MODERN_REVISION = '2026-07-28';

const PROTOCOL_VERSION_KEY = 'io.modelcontextprotocol/protocolVersion';
const CLIENT_CAPABILITIES_KEY = 'io.modelcontextprotocol/clientCapabilities';
const CLIENT_INFO_KEY = 'io.modelcontextprotocol/clientInfo';
const SERVER_INFO_KEY = 'io.modelcontextprotocol/serverInfo';

/** An HTTP answer that was not a JSON-RPC result, with what a caller needs to explain it. */
export class DownstreamHttpError extends Error {
  constructor(
    readonly status: number,
    readonly challenge: string | undefined,
    readonly rpcCode?: number,
  ) {
    super(`session-buddy answered HTTP ${status}${rpcCode !== undefined ? ` (JSON-RPC ${rpcCode})` : ''}`);
  }
}

/** A JSON-RPC error answer to a well-formed request (the request reached the server and was refused in-band). */
export class DownstreamRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** A 2026-07-28 request: the body with its `_meta` envelope, and the standard headers that must mirror it. */
export function modernRequest(
  id: number,
  method: string,
  params: Record<string, unknown>,
  clientInfo: { name: string; version: string },
): { body: string; headers: Record<string, string> } {
  const name = typeof params['name'] === 'string' ? params['name'] : undefined;
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id,
    method,
    params: { ...params, _meta: { [PROTOCOL_VERSION_KEY]: MODERN_REVISION, [CLIENT_CAPABILITIES_KEY]: {}, [CLIENT_INFO_KEY]: clientInfo } },
  });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN_REVISION,
    'mcp-method': method,
  };
  // Header values must be visible ASCII; anything else travels in the revision's Base64 form.
  if (name !== undefined) headers['mcp-name'] = /^[\x21-\x7e]*$/.test(name) ? name : `=?base64?${Buffer.from(name, 'utf8').toString('base64')}?=`;
  return { body, headers };
}

/**
 * The JSON-RPC result of a modern exchange, from a JSON body or an event
 * stream (a server may stream when it sends progress first). Refusals become
 * {@link DownstreamHttpError} (HTTP) or {@link DownstreamRpcError} (in-band).
 */
export function readModernResult(answer: PlainAnswer, id: number): Record<string, unknown> {
  const { contentType: type, text } = answer;
  let message: { result?: unknown; error?: { code?: unknown; message?: unknown } } | undefined;
  if (type.includes('text/event-stream')) {
    for (const event of text.split(/\r?\n\r?\n/)) {
      const data = event
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      const parsed = data ? tryJson(data) : undefined;
      if (isObject(parsed) && parsed['id'] === id && ('result' in parsed || 'error' in parsed)) message = parsed;
    }
  } else {
    const parsed = tryJson(text);
    if (isObject(parsed)) message = parsed;
  }
  const rpcCode = typeof message?.error?.code === 'number' ? message.error.code : undefined;
  if (answer.status < 200 || answer.status > 299) throw new DownstreamHttpError(answer.status, answer.challenge, rpcCode);
  if (rpcCode !== undefined) throw new DownstreamRpcError(rpcCode, typeof message?.error?.message === 'string' ? message.error.message : 'error');
  if (!isObject(message?.result)) throw new DownstreamHttpError(answer.status, undefined);
  return message.result;
}

/**
 * A tools/call result as a 2025-era caller expects it: without the revision's
 * result envelope (`resultType`, cache fields, the server's identity).
 * A result that asks for more input cannot be relayed: the orchestrator's
 * callers never see session-buddy's questions.
 */
export function toCallToolResult(result: Record<string, unknown>): CallToolResult | undefined {
  const { resultType, ttlMs: _ttl, cacheScope: _scope, _meta, ...rest } = result;
  if (resultType !== undefined && resultType !== 'complete') return undefined;
  const meta = isObject(_meta) ? Object.fromEntries(Object.entries(_meta).filter(([key]) => key !== SERVER_INFO_KEY)) : undefined;
  return { ...(rest as CallToolResult), ...(meta && Object.keys(meta).length ? { _meta: meta } : {}) };
}

/** Whether a server/discover answer offers the revision. */
export function offersModern(result: Record<string, unknown>): boolean {
  return Array.isArray(result['supportedVersions']) && result['supportedVersions'].includes(MODERN_REVISION);
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
