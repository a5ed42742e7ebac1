import type { JSONObject } from '@modelcontextprotocol/server';
import { Inject, Injectable } from '@nestjs/common';
import { Server } from '@modelcontextprotocol/server';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv';
import { MCP_MODULE_OPTIONS, type McpServerModuleOptions } from './mcp-options';
import { McpToolTable } from './mcp-tool-table.service';
import { callAuthOf } from './mcp-call-auth';
import type { McpTransportKind } from './tool-call';

/**
 * Builds the SDK v2 `Server` that serves one 2025-era session (or stdio
 * connection). It answers `tools/list` and `tools/call` with the shared
 * {@link McpToolTable} through the SDK's public `setRequestHandler`, so a
 * session costs a server object and two handlers, not a registration per
 * tool, and both eras list and call alike. Over HTTP the caller was
 * authenticated by the guard and arrives with the request (`ctx.http.authInfo`);
 * over stdio each call brings its token as the `token` argument.
 *
 * The SDK's low-level `Server` rather than its `McpServer`: `McpServer` lists
 * every enabled tool to every caller, and crossauth lists only what the
 * caller's scopes allow.
 */
@Injectable()
export class McpServerFactory {
  // One for the app: each SDK Server otherwise builds its own Ajv (~230 µs of CPU per session).
  private readonly schemaValidator = new AjvJsonSchemaValidator();

  constructor(
    private readonly table: McpToolTable,
    @Inject(MCP_MODULE_OPTIONS) private readonly options: McpServerModuleOptions,
  ) {}

  create(kind: McpTransportKind): Server {
    const server = new Server(
      { name: this.options.name, version: this.options.version },
      { capabilities: serverCapabilities(this.options), instructions: this.options.instructions, jsonSchemaValidator: this.schemaValidator },
    );
    server.setRequestHandler('tools/list', (_request, ctx) => ({ tools: this.table.list(kind, callAuthOf(ctx.http)?.principal) }));
    server.setRequestHandler('tools/call', (request, ctx) => this.table.call(request.params, kind, callAuthOf(ctx.http)));
    return server;
  }
}

/** What both eras advertise: tools (a fixed list) and the extensions the app names. */
export function serverCapabilities(options: McpServerModuleOptions): { tools: { listChanged: false }; extensions?: Record<string, JSONObject> } {
  return {
    tools: { listChanged: false },
    ...(options.extensions && Object.keys(options.extensions).length > 0 ? { extensions: { ...options.extensions } } : {}),
  };
}
