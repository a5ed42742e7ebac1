import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { AUTH_OPTIONS, signRequest, signingKeyId, type ResolvedAuthOptions } from '@crossauth/auth';
import { ToolError } from '@crossauth/mcp-server';
import { orchestratorConfig } from '../config/orchestrator.config';
import type { OrchestratorConfig } from '../config/env.schema';
import { DownstreamTokenCache } from './downstream-token.cache';
import { createHttpFetch } from './http-fetch';
import { DownstreamHttpError, DownstreamRpcError, modernRequest, offersModern, readModernResult, toCallToolResult, MODERN_REVISION } from './modern-exchange';

/** Which revision session-buddy is spoken to in. */
type Era = 'modern' | 'legacy';

/** Who a pooled client calls as, and what it last learned from a refusal. */
interface CallState {
  readonly subject: string;
  readonly scopes: readonly string[];
  /** The caller's own actors, nested under the orchestrator in the downstream token. */
  readonly onBehalfOf: readonly string[];
  challenge?: string;
}

interface PooledClient {
  readonly client: Client;
  readonly transport: StreamableHTTPClientTransport;
  readonly state: CallState;
  lastUsed: number;
}

/** The result of comparing our key id with the ones session-buddy reports. */
export interface KeyCheck {
  readonly reachable: boolean;
  readonly ourKeyId: string | null;
  readonly theirKeyIds: string[];
  readonly match: boolean;
  readonly detail: string;
}

const MAX_POOLED = 256;
const IDLE_MS = 5 * 60_000;
/** How long a "2025 era only" verdict stands before session-buddy is asked again (it may have been upgraded). */
const LEGACY_RECHECK_MS = 5 * 60_000;
/** The SDK client's default request timeout, kept for the modern exchange. */
const CALL_TIMEOUT_MS = 60_000;
const CLIENT_INFO = { name: 'orchestrator', version: '0.1.0' };

const poolKey = (subject: string, scopes: readonly string[], onBehalfOf: readonly string[]) =>
  `${subject}\n${[...scopes].sort().join(' ')}\n${onBehalfOf.join(' ')}`;

const challengeParam = (challenge: string | undefined, name: string): string | undefined =>
  challenge ? new RegExp(`${name}="([^"]*)"`).exec(challenge)?.[1] : undefined;

function isConnectionFailure(error: unknown): boolean {
  const text = `${error instanceof Error ? `${error.message} ${String((error as { cause?: unknown }).cause ?? '')}` : String(error)}`;
  return /fetch failed|ECONNREFUSED|ECONNRESET|EPIPE|socket hang up|other side closed|UND_ERR/i.test(text);
}

/**
 * Calls session-buddy's tools on behalf of the orchestrator's callers, in
 * MCP 2026-07-28 when session-buddy offers it (one POST per call, nothing to
 * keep between calls; asked once with `server/discover`), else in the 2025
 * era with sessions. There, one long-lived SDK client per subject and scope set (sessions on session-buddy
 * are owned by iss+sub; each token carries only the scopes its tools need);
 * every HTTP request gets a fresh token from the cache through a custom
 * fetch, because `requestInit` headers would freeze an expiring token. Who a
 * request is for is fixed per client, so no ambient (AsyncLocalStorage) state.
 */
@Injectable()
export class SessionBuddyClient implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SessionBuddyClient.name);
  private readonly pool = new Map<string, Promise<PooledClient>>();
  private readonly http = createHttpFetch();
  private readonly sweeper: NodeJS.Timeout;
  private era?: { readonly value: Promise<Era>; until: number; readonly asker?: CallState };
  private readonly url: URL;
  private nextId = 1;

  constructor(
    private readonly tokens: DownstreamTokenCache,
    @Inject(orchestratorConfig.KEY) private readonly config: OrchestratorConfig,
    @Inject(AUTH_OPTIONS) private readonly auth: ResolvedAuthOptions,
  ) {
    this.url = new URL(config.sessionBuddy.url);
    this.sweeper = setInterval(() => void this.closeIdle(), 60_000);
    this.sweeper.unref();
  }

  onApplicationBootstrap(): void {
    // Not awaited: session-buddy may start after us. The result is logged either way.
    void this.checkKeys();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.pool.keys()].map((key) => this.drop(key)));
    this.http.close();
  }

  /**
   * Calls a session-buddy tool as `subject` with a token holding exactly `scopes`.
   * Tool errors come back as results (`isError`), untouched; auth refusals and
   * unreachable servers become {@link ToolError}s that say what failed.
   */
  async callTool(
    subject: string,
    scopes: readonly string[],
    name: string,
    args: Record<string, unknown>,
    onBehalfOf: readonly string[] = [],
  ): Promise<CallToolResult> {
    const attempts = this.config.sessionBuddy.retries + 1;
    let lastError: unknown;
    const key = poolKey(subject, scopes, onBehalfOf);
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let state: CallState | undefined;
      try {
        state = { subject, scopes, onBehalfOf };
        if ((await this.eraFor(state)) === 'modern') return await this.callModern(state, name, args);
        const pooled = await this.clientFor(key, subject, scopes, onBehalfOf);
        state = pooled.state;
        pooled.lastUsed = Date.now();
        return (await pooled.client.callTool({ name, arguments: args })) as CallToolResult;
      } catch (error) {
        lastError = error;
        // Our own refusals (the authorization server said no) already say what failed.
        if (error instanceof ToolError) throw error;
        if (error instanceof DownstreamRpcError) throw new ToolError(`session-buddy refused ${name}: ${error.message}`, 'downstream_error');
        const status = error instanceof StreamableHTTPError ? error.code : error instanceof DownstreamHttpError ? error.status : undefined;
        const challenge = (error as { challenge?: string }).challenge ?? state?.challenge;
        if (status === 403) {
          const scope = challengeParam(challenge, 'scope') ?? scopes.join(' ');
          throw new ToolError(`session-buddy refused ${name}: missing scope "${scope}" (insufficient_scope)`, 'insufficient_scope');
        }
        if (status === 401) {
          throw new ToolError(this.explainUnauthorized(name, challenge), 'downstream_unauthorized');
        }
        if (error instanceof DownstreamHttpError) {
          // A 4xx to a 2026-07-28 request: session-buddy no longer takes them (a rollback behind
          // the same URL), so use sessions. A 5xx is its own trouble, answered as such.
          if (error.status >= 500) break;
          this.fallBackToLegacy(error);
          continue;
        }
        // A restarted session-buddy no longer knows our session (404), or is not up yet:
        // drop the client and try again with a fresh session, backing off a little.
        await this.drop(key);
        if (status !== 404 && !isConnectionFailure(error)) break;
        if (attempt < attempts) await sleep(Math.min(2_000, 100 * 3 ** (attempt - 1)));
      }
    }
    this.logger.warn({ event: 'session_buddy_unreachable', tool: name, error: lastError instanceof Error ? lastError.message : String(lastError) });
    throw new ToolError(`session-buddy at ${this.config.sessionBuddy.url} could not be reached after ${attempts} attempts`, 'downstream_unavailable');
  }

  /** Compares our signing key id with the ones session-buddy reports in `health_check`. */
  async checkKeys(): Promise<KeyCheck> {
    const ourKeyId = signingKeyId(this.auth);
    let check: KeyCheck;
    try {
      const result = await this.callTool(this.config.auth.callerId, [], 'health_check', {});
      const theirKeyIds = ((result.structuredContent as { auth?: { key_ids?: string[] } } | undefined)?.auth?.key_ids ?? []).filter(
        (k): k is string => typeof k === 'string',
      );
      const match = ourKeyId !== null && theirKeyIds.includes(ourKeyId);
      check = {
        reachable: true,
        ourKeyId,
        theirKeyIds,
        match,
        detail: match
          ? 'session-buddy accepts our key'
          : `key mismatch: our key id ${ourKeyId} is not among session-buddy's [${theirKeyIds.join(', ')}]; the two services do not share a secret`,
      };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const mismatch = /unknown_key|bad_signature/.test(message);
      check = {
        reachable: !/could not be reached/.test(message),
        ourKeyId,
        theirKeyIds: [],
        match: false,
        detail: mismatch ? `key mismatch: ${message}` : message,
      };
    }
    if (check.match) this.logger.log({ event: 'key_check', ...check });
    else this.logger.error({ event: 'key_check', ...check });
    return check;
  }

  private explainUnauthorized(tool: string, challenge: string | undefined): string {
    const description = challengeParam(challenge, 'error_description') ?? 'unauthorized';
    const reason = description.split(':')[0] ?? 'unauthorized';
    if (reason === 'unknown_key' || reason === 'bad_signature') {
      return `session-buddy refused ${tool}: ${description}. Key mismatch: the orchestrator and session-buddy do not share a secret (compare \`crossauth fingerprint\` on both).`;
    }
    return `session-buddy refused ${tool}: ${description}`;
  }

  /** The era to call in: fixed by configuration, else as session-buddy's `server/discover` answers (once, shared by concurrent calls). */
  private eraFor(state: CallState): Promise<Era> {
    const configured = this.config.sessionBuddy.protocol;
    if (configured !== 'auto') return Promise.resolve(configured === MODERN_REVISION ? 'modern' : 'legacy');
    const now = Date.now();
    const shared = this.era;
    if (shared && now < shared.until) {
      // Another call's probe failing is no answer for this one (its token may have been refused,
      // not ours): once it has failed and been forgotten, this call asks for itself.
      return shared.asker === undefined || shared.asker === state ? shared.value : shared.value.catch(() => this.eraFor(state));
    }
    const value = this.probe(state);
    const era = { value, until: Number.POSITIVE_INFINITY, asker: state };
    this.era = era;
    value.then(
      (found) => {
        if (found === 'legacy') era.until = Date.now() + LEGACY_RECHECK_MS;
      },
      // Unreachable or refused: decide on the next call.
      () => {
        if (this.era === era) this.era = undefined;
      },
    );
    return value;
  }

  private async probe(state: CallState): Promise<Era> {
    let era: Era = 'legacy';
    try {
      if (offersModern(await this.modernExchange(state, 'server/discover', {}))) era = 'modern';
    } catch (error) {
      // Refused credentials are not an answer about the protocol; anything else from a
      // 2025-era server (no session, unknown method) is.
      if (
        !(error instanceof DownstreamHttpError || error instanceof DownstreamRpcError) ||
        (error instanceof DownstreamHttpError && (error.status === 401 || error.status === 403))
      )
        throw error;
    }
    this.logger.log({ event: 'session_buddy_era', era, protocolVersion: era === 'modern' ? MODERN_REVISION : 'negotiated by initialize' });
    return era;
  }

  private async callModern(state: CallState, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
    const result = toCallToolResult(await this.modernExchange(state, 'tools/call', { name, arguments: args }));
    if (!result) throw new ToolError(`session-buddy asked for more input to run ${name}, which the orchestrator cannot give`, 'downstream_input_required');
    return result;
  }

  /** One 2026-07-28 request and its result: a fresh token (once more after a 401) and, when required, a signature. */
  private async modernExchange(state: CallState, method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const { body, headers } = modernRequest(id, method, params, CLIENT_INFO);
    const send = async () => this.http.post(this.url, { ...headers, ...(await this.credentials(state, 'POST', this.url, body)) }, body, CALL_TIMEOUT_MS);
    let answer = await send();
    if (answer.status === 401 && this.canMint) {
      this.tokens.invalidate(state.subject, state.scopes, state.onBehalfOf);
      answer = await send();
    }
    if (answer.status >= 400) state.challenge = answer.challenge;
    return readModernResult(answer, id);
  }

  private fallBackToLegacy(error: DownstreamHttpError): void {
    this.logger.warn({ event: 'session_buddy_era_fallback', status: error.status, rpcCode: error.rpcCode });
    this.era = { value: Promise.resolve('legacy'), until: Date.now() + LEGACY_RECHECK_MS };
  }

  private clientFor(key: string, subject: string, scopes: readonly string[], onBehalfOf: readonly string[]): Promise<PooledClient> {
    let pooled = this.pool.get(key);
    if (!pooled) {
      if (this.pool.size >= MAX_POOLED) void this.drop(this.pool.keys().next().value as string);
      pooled = this.connect({ subject, scopes, onBehalfOf });
      this.pool.set(key, pooled);
      pooled.catch(() => this.pool.delete(key));
    }
    return pooled;
  }

  private async connect(state: CallState): Promise<PooledClient> {
    const transport = new StreamableHTTPClientTransport(new URL(this.config.sessionBuddy.url), {
      fetch: (url, init) => this.authorizedFetch(state, url, init),
      // We retry at the call level; the SSE stream need not reconnect forever.
      reconnectionOptions: { maxReconnectionDelay: 30_000, initialReconnectionDelay: 1_000, reconnectionDelayGrowFactor: 2, maxRetries: 2 },
    });
    const client = new Client({ name: 'orchestrator', version: '0.1.0' }, { capabilities: {} });
    try {
      await client.connect(transport);
    } catch (error) {
      // Keep the refusal's challenge with the error.
      throw Object.assign(error instanceof Error ? error : new Error(String(error)), { challenge: state.challenge });
    }
    return { client, transport, state, lastUsed: Date.now() };
  }

  private async authorizedFetch(state: CallState, url: string | URL, init?: RequestInit): Promise<Response> {
    const { subject, scopes, onBehalfOf } = state;
    // The SDK builds a fresh Headers per request, so it can be filled in place.
    const headers = init?.headers instanceof Headers ? init.headers : new Headers(init?.headers);
    const target = url instanceof URL ? url : new URL(url);
    const send = async () => {
      const body = typeof init?.body === 'string' ? init.body : '';
      for (const [name, value] of Object.entries(await this.credentials(state, init?.method ?? 'GET', target, body))) headers.set(name, value);
      return this.http.fetch(url, init?.headers === headers ? init : { ...init, headers });
    };
    let response = await send();
    if (response.status === 401 && this.canMint) {
      // Perhaps our cached token expired or was revoked: mint once more, then give up.
      await response.body?.cancel();
      this.tokens.invalidate(subject, scopes, onBehalfOf);
      response = await send();
    }
    if (!response.ok) state.challenge = response.headers.get('www-authenticate') ?? undefined;
    return response;
  }

  /**
   * The headers that say who calls: a token from the cache, and the request's
   * signature when session-buddy requires one. Each attempt gets a fresh nonce
   * and created time; a retry is a new request.
   */
  private async credentials(state: CallState, method: string, target: URL, body: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    if (this.canMint) out['authorization'] = `Bearer ${await this.tokens.tokenFor(state.subject, state.scopes, Date.now(), state.onBehalfOf)}`;
    const keys = this.auth.keyRing;
    if (keys && this.config.sessionBuddy.signRequests) {
      Object.assign(
        out,
        signRequest({ method, authority: target.host, path: target.pathname, body }, { kid: keys.current.kid, key: keys.current.requestSigningKey }),
      );
    }
    return out;
  }

  private get canMint(): boolean {
    return Boolean(this.auth.keyRing || this.auth.signingKeys);
  }

  private async drop(key: string): Promise<void> {
    const pooled = this.pool.get(key);
    this.pool.delete(key);
    const resolved = await pooled?.catch(() => undefined);
    // Ends the server-side session too (DELETE /mcp) when the server is still there.
    await resolved?.transport.terminateSession().catch(() => undefined);
    await resolved?.client.close().catch(() => undefined);
  }

  private async closeIdle(): Promise<void> {
    const now = Date.now();
    for (const [key, pooled] of this.pool) {
      const resolved = await pooled.catch(() => undefined);
      if (resolved && now - resolved.lastUsed > IDLE_MS) await this.drop(key);
    }
  }

  get poolSize(): number {
    return this.pool.size;
  }
}
