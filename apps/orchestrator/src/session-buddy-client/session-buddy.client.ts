import { AsyncLocalStorage } from 'node:async_hooks';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { AUTH_OPTIONS, signRequest, type ResolvedAuthOptions } from '@crossauth/auth';
import { ToolError } from '@crossauth/mcp-server';
import { orchestratorConfig } from '../config/orchestrator.config';
import type { OrchestratorConfig } from '../config/env.schema';
import { DownstreamTokenCache } from './downstream-token.cache';

/** What one outgoing call needs to authenticate, and what it learned from a refusal. */
interface CallState {
  readonly subject: string;
  readonly scopes: readonly string[];
  challenge?: string;
}

interface PooledClient {
  readonly client: Client;
  readonly transport: StreamableHTTPClientTransport;
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

const challengeParam = (challenge: string | undefined, name: string): string | undefined =>
  challenge ? new RegExp(`${name}="([^"]*)"`).exec(challenge)?.[1] : undefined;

function isConnectionFailure(error: unknown): boolean {
  const text = `${error instanceof Error ? `${error.message} ${String((error as { cause?: unknown }).cause ?? '')}` : String(error)}`;
  return /fetch failed|ECONNREFUSED|ECONNRESET|EPIPE|socket hang up|other side closed|UND_ERR/i.test(text);
}

/**
 * `fetch` with a per-request AbortSignal that follows `init.signal`.
 *
 * The SDK passes its transport-wide signal to every request; undici hangs an
 * abort listener on it per request and only lets go at GC, so a client making
 * thousands of calls trips MaxListenersExceededWarning (~1,500 calls) and
 * grows. Here the long-lived signal carries one short-lived listener per
 * request, removed as soon as the response arrives (kept for SSE bodies,
 * which must stay cancellable).
 */
const raisedLimit = new WeakSet<AbortSignal>();

async function fetchFollowingSignal(url: string | URL, init: RequestInit): Promise<Response> {
  const outer = init.signal;
  if (!outer) return fetch(url, init);
  if (outer.aborted) throw outer.reason;
  // One forwarder per in-flight request: many concurrent calls are normal, not a leak.
  if (!raisedLimit.has(outer)) {
    setMaxListeners(10_000, outer);
    raisedLimit.add(outer);
  }
  const inner = new AbortController();
  const forward = () => inner.abort(outer.reason);
  const release = () => outer.removeEventListener('abort', forward);
  outer.addEventListener('abort', forward, { once: true });
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: inner.signal });
  } catch (error) {
    release();
    throw error;
  }
  if (!response.body || !response.headers.get('content-type')?.includes('text/event-stream')) {
    release();
    return response;
  }
  // An SSE body must stay cancellable until it ends; release the forwarder then.
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const chunk = await reader.read();
        if (chunk.done) {
          release();
          controller.close();
        } else {
          controller.enqueue(chunk.value);
        }
      } catch (error) {
        release();
        controller.error(error);
      }
    },
    cancel(reason) {
      release();
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/**
 * Calls session-buddy's tools on behalf of the orchestrator's callers. One
 * long-lived SDK client per subject (sessions on session-buddy are owned by
 * iss+sub); every HTTP request gets a fresh token from the cache through a
 * custom fetch, because `requestInit` headers would freeze an expiring token.
 */
@Injectable()
export class SessionBuddyClient implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SessionBuddyClient.name);
  private readonly calls = new AsyncLocalStorage<CallState>();
  private readonly pool = new Map<string, Promise<PooledClient>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly tokens: DownstreamTokenCache,
    @Inject(orchestratorConfig.KEY) private readonly config: OrchestratorConfig,
    @Inject(AUTH_OPTIONS) private readonly auth: ResolvedAuthOptions,
  ) {
    this.sweeper = setInterval(() => void this.closeIdle(), 60_000);
    this.sweeper.unref();
  }

  onApplicationBootstrap(): void {
    // Not awaited: session-buddy may start after us. The result is logged either way.
    void this.checkKeys();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.pool.keys()].map((subject) => this.drop(subject)));
  }

  /**
   * Calls a session-buddy tool as `subject` with a token holding exactly `scopes`.
   * Tool errors come back as results (`isError`), untouched; auth refusals and
   * unreachable servers become {@link ToolError}s that say what failed.
   */
  async callTool(subject: string, scopes: readonly string[], name: string, args: Record<string, unknown>): Promise<CallToolResult> {
    const attempts = this.config.sessionBuddy.retries + 1;
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const state: CallState = { subject, scopes };
      try {
        const pooled = await this.clientFor(subject);
        pooled.lastUsed = Date.now();
        return (await this.calls.run(state, () => pooled.client.callTool({ name, arguments: args }))) as CallToolResult;
      } catch (error) {
        lastError = error;
        const status = error instanceof StreamableHTTPError ? error.code : undefined;
        const challenge = (error as { challenge?: string }).challenge ?? state.challenge;
        if (status === 403) {
          const scope = challengeParam(challenge, 'scope') ?? scopes.join(' ');
          throw new ToolError(`session-buddy refused ${name}: missing scope "${scope}" (insufficient_scope)`, 'insufficient_scope');
        }
        if (status === 401) {
          throw new ToolError(this.explainUnauthorized(name, challenge), 'downstream_unauthorized');
        }
        // A restarted session-buddy no longer knows our session (404), or is not up yet:
        // drop the client and try again with a fresh session, backing off a little.
        await this.drop(subject);
        if (status !== 404 && !isConnectionFailure(error)) break;
        if (attempt < attempts) await sleep(Math.min(2_000, 100 * 3 ** (attempt - 1)));
      }
    }
    this.logger.warn({ event: 'session_buddy_unreachable', tool: name, error: lastError instanceof Error ? lastError.message : String(lastError) });
    throw new ToolError(`session-buddy at ${this.config.sessionBuddy.url} could not be reached after ${attempts} attempts`, 'downstream_unavailable');
  }

  /** Compares our signing key id with the ones session-buddy reports in `health_check`. */
  async checkKeys(): Promise<KeyCheck> {
    const ourKeyId = this.auth.keyRing?.current.kid ?? null;
    let check: KeyCheck;
    try {
      const result = await this.callTool(this.config.auth.issuer, [], 'health_check', {});
      const theirKeyIds = ((result.structuredContent as { auth?: { key_ids?: string[] } } | undefined)?.auth?.key_ids ?? []).filter(
        (k): k is string => typeof k === 'string',
      );
      const match = ourKeyId !== null && theirKeyIds.includes(ourKeyId);
      check = {
        reachable: true,
        ourKeyId,
        theirKeyIds,
        match,
        detail: match ? 'session-buddy accepts our key' : `key mismatch: our key id ${ourKeyId} is not among session-buddy's [${theirKeyIds.join(', ')}]; the two services do not share a secret`,
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

  private clientFor(subject: string): Promise<PooledClient> {
    let pooled = this.pool.get(subject);
    if (!pooled) {
      if (this.pool.size >= MAX_POOLED) void this.drop(this.pool.keys().next().value as string);
      pooled = this.connect(subject);
      this.pool.set(subject, pooled);
      pooled.catch(() => this.pool.delete(subject));
    }
    return pooled;
  }

  private async connect(subject: string): Promise<PooledClient> {
    const state: CallState = { subject, scopes: [] };
    const transport = new StreamableHTTPClientTransport(new URL(this.config.sessionBuddy.url), {
      fetch: (url, init) => this.authorizedFetch(subject, url, init),
      // We retry at the call level; the SSE stream need not reconnect forever.
      reconnectionOptions: { maxReconnectionDelay: 30_000, initialReconnectionDelay: 1_000, reconnectionDelayGrowFactor: 2, maxRetries: 2 },
    });
    const client = new Client({ name: 'orchestrator', version: '0.1.0' }, { capabilities: {} });
    try {
      await this.calls.run(state, () => client.connect(transport));
    } catch (error) {
      // Keep the refusal's challenge with the error: the caller's own call state never saw it.
      throw Object.assign(error instanceof Error ? error : new Error(String(error)), { challenge: state.challenge });
    }
    return { client, transport, lastUsed: Date.now() };
  }

  private async authorizedFetch(subject: string, url: string | URL, init?: RequestInit): Promise<Response> {
    const state = this.calls.getStore();
    const scopes = state?.subject === subject ? state.scopes : [];
    const headers = new Headers(init?.headers);
    const send = () => {
      const keys = this.auth.keyRing;
      if (keys) headers.set('authorization', `Bearer ${this.tokens.tokenFor(subject, scopes)}`);
      if (keys && this.config.sessionBuddy.signRequests) {
        // Each attempt gets a fresh nonce and created time; a retry is a new request.
        const target = new URL(url);
        const body = typeof init?.body === 'string' ? init.body : '';
        const signed = signRequest(
          { method: init?.method ?? 'GET', authority: target.host, path: target.pathname, body },
          { kid: keys.current.kid, key: keys.current.requestSigningKey },
        );
        for (const [name, value] of Object.entries(signed)) headers.set(name, value);
      }
      return fetchFollowingSignal(url, { ...init, headers });
    };
    let response = await send();
    if (response.status === 401 && this.auth.keyRing) {
      // Perhaps our cached token expired or was revoked: mint once more, then give up.
      await response.body?.cancel();
      this.tokens.invalidate(subject, scopes);
      response = await send();
    }
    if (!response.ok && state) state.challenge = response.headers.get('www-authenticate') ?? undefined;
    return response;
  }

  private async drop(subject: string): Promise<void> {
    const pooled = this.pool.get(subject);
    this.pool.delete(subject);
    const resolved = await pooled?.catch(() => undefined);
    // Ends the server-side session too (DELETE /mcp) when the server is still there.
    await resolved?.transport.terminateSession().catch(() => undefined);
    await resolved?.client.close().catch(() => undefined);
  }

  private async closeIdle(): Promise<void> {
    const now = Date.now();
    for (const [subject, pooled] of this.pool) {
      const resolved = await pooled.catch(() => undefined);
      if (resolved && now - resolved.lastUsed > IDLE_MS) await this.drop(subject);
    }
  }

  get poolSize(): number {
    return this.pool.size;
  }
}
