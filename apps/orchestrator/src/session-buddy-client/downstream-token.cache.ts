import { Inject, Injectable } from '@nestjs/common';
import { TokenExchangeService } from '@crossauth/auth';
import { orchestratorConfig } from '../config/orchestrator.config';
import type { OrchestratorConfig } from '../config/env.schema';
import { TokenEndpointClient } from './token-endpoint.client';

interface CachedToken {
  readonly token: string;
  readonly renewAt: number;
}

const MAX_ENTRIES = 10_000;

/** One cache slot per subject, scope set (order and duplicates ignored) and earlier actors. */
const cacheKey = (subject: string, scopes: readonly string[], onBehalfOf: readonly string[] = []): string =>
  `${subject}\u0000${[...new Set(scopes)].sort().join(' ')}\u0000${onBehalfOf.join(' ')}`;

/**
 * The orchestrator's downstream tokens: for a caller, the result of the same
 * RFC 8693 exchange the token endpoint performs ({@link TokenExchangeService}),
 * never the caller's own token: `sub` stays the caller, `act` names the
 * orchestrator (with the caller's own actors nested inside it when the caller
 * was itself acting), `aud` is session-buddy, and the scopes are only those
 * the tool needs. Cached per (subject, scopes, earlier actors) and renewed at
 * 80% of their life, so minting stays off the hot path. Configured as a
 * client of an authorization server, it gets them from that server's token
 * endpoint instead ({@link TokenEndpointClient}), one request per renewal.
 */
@Injectable()
export class DownstreamTokenCache {
  private readonly cache = new Map<string, CachedToken>();
  // One exchange per key at a time: concurrent calls for a new caller share it.
  private readonly pending = new Map<string, Promise<string>>();
  private minted = 0;

  constructor(
    private readonly exchange: TokenExchangeService,
    private readonly remote: TokenEndpointClient,
    @Inject(orchestratorConfig.KEY) private readonly config: OrchestratorConfig,
  ) {}

  /**
   * A valid token for `subject` with exactly `scopes` (sorted, de-duplicated);
   * `onBehalfOf` is the caller's own actor chain, kept under the orchestrator's.
   */
  async tokenFor(subject: string, scopes: readonly string[], nowMs = Date.now(), onBehalfOf: readonly string[] = []): Promise<string> {
    const wanted = [...new Set(scopes)].sort();
    const key = cacheKey(subject, wanted, onBehalfOf);
    const cached = this.cache.get(key);
    if (cached && nowMs < cached.renewAt) return cached.token;
    if (this.remote.configured) {
      let pending = this.pending.get(key);
      if (!pending) {
        pending = this.remote
          .exchange(subject, wanted, onBehalfOf, nowMs)
          .then(({ token, expiresAtMs }) => this.remember(key, token, nowMs + (expiresAtMs - nowMs) * 0.8))
          .finally(() => this.pending.delete(key));
        this.pending.set(key, pending);
      }
      return pending;
    }
    const ttl = this.config.sessionBuddy.tokenTtlSeconds;
    // The caller's scopes were checked against the tool's before we got here (see SessionBuddyClient.callTool).
    const minted = this.exchange.exchange(
      {
        subject: { subject, scopes: wanted, actors: onBehalfOf },
        actor: this.config.auth.callerId,
        audience: this.config.sessionBuddy.audience,
        scopes: wanted,
        ttlSeconds: ttl,
      },
      nowMs,
    );
    return this.remember(key, minted.token, nowMs + ttl * 800);
  }

  private remember(key: string, token: string, renewAt: number): string {
    this.minted++;
    if (this.cache.size >= MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, { token, renewAt });
    return token;
  }

  /** Forgets a token (after a 401, so the next request mints afresh). */
  invalidate(subject: string, scopes: readonly string[], onBehalfOf: readonly string[] = []): void {
    this.cache.delete(cacheKey(subject, scopes, onBehalfOf));
  }

  get stats(): { cached: number; minted: number } {
    return { cached: this.cache.size, minted: this.minted };
  }
}
