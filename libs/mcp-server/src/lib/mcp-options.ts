import type { JSONObject } from '@modelcontextprotocol/server';
import type { McpSessionStore } from './mcp-session.store';
import { ConfigurableModuleBuilder } from '@nestjs/common';

/** Settings for the MCP endpoint. Apps build these from their validated config. */
export interface McpServerModuleOptions {
  /** Server name and version reported in `initialize`. */
  readonly name: string;
  readonly version: string;
  /** Canonical URL of this server's MCP endpoint (RFC 9728 `resource`), e.g. `http://127.0.0.1:8678/mcp`. */
  readonly resourceUrl: string;
  /** Authorization servers (token issuers) advertised in protected-resource metadata. */
  readonly authorizationServers: readonly string[];
  /** Human-readable name for the metadata document. */
  readonly resourceName?: string;
  /** Stateless mode: no `Mcp-Session-Id`, a fresh server per request. Default false. */
  readonly stateless?: boolean;
  /**
   * Serve MCP 2026-07-28 requests (per-request `_meta` envelope, no session)
   * beside the 2025 era. Default true; false answers them as a 2025-only
   * server does, a switch for rolling the revision back.
   */
  readonly modernProtocol?: boolean;
  /** Sessions idle longer than this are closed. Default 30 min. */
  readonly sessionIdleTimeoutMs?: number;
  /** Sessions older than this are closed, however busy. Default 12 h. */
  readonly sessionMaxLifetimeMs?: number;
  /** Upper bound on concurrent sessions. Default 10,000. */
  readonly maxSessions?: number;
  /** Request bodies larger than this get `413`. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /**
   * Browser origins allowed to call `/mcp` (DNS-rebinding protection, MCP
   * transport spec). Requests without an `Origin` header (non-browser clients)
   * are not affected. Default: the origin of `resourceUrl`.
   */
  readonly allowedOrigins?: readonly string[];
  /**
   * How a POST carrying requests is answered: `json` (one `application/json`
   * body) or `sse` (an event stream, needed only for server-to-client messages
   * during a call, which crossauth tools do not send). Clients accept both.
   * Default `json`: it costs clients and the server measurably less (see docs/benchmarks.md).
   */
  readonly responseMode?: 'json' | 'sse';
  /** Instructions for clients, returned by `initialize`. */
  readonly instructions?: string;
  /**
   * MCP extensions this server supports, advertised in its capabilities
   * (`initialize` and `server/discover`), e.g.
   * `{ 'io.modelcontextprotocol/oauth-client-credentials': {} }`.
   */
  readonly extensions?: Readonly<Record<string, JSONObject>>;
  /**
   * Where sessions are shared between instances (Redis), so a request with
   * `Mcp-Session-Id` is served by any of them. Default: none, each instance
   * knows only its own sessions.
   */
  readonly sessionStore?: McpSessionStore;
}

/** The MCP extension for machine clients: the authorization server serves OAuth client credentials. */
export const OAUTH_CLIENT_CREDENTIALS_EXTENSION = 'io.modelcontextprotocol/oauth-client-credentials';

export const { ConfigurableModuleClass: McpConfigurableModule, MODULE_OPTIONS_TOKEN: MCP_MODULE_OPTIONS } =
  new ConfigurableModuleBuilder<McpServerModuleOptions>().setClassMethodName('forRoot').build();
