import { Injectable } from '@nestjs/common';
import { MAX_ACTORS } from './claims';
import { TokenIssuerService, type MintedToken } from './token-issuer.service';

/** The token being exchanged, as far as the exchange needs it. */
export interface ExchangeSubject {
  readonly subject: string;
  readonly scopes: readonly string[];
  /** The subject token's own `act` chain, current actor first. */
  readonly actors?: readonly string[];
  /** The subject token's `exp`; the new token never outlives it. Unknown for the orchestrator's pooled callers. */
  readonly expiresAt?: number;
}

/** What the actor asks for. */
export interface ExchangeRequest {
  readonly subject: ExchangeSubject;
  /** Who acts: the authenticated client, or the orchestrator itself. */
  readonly actor: string;
  /** The downstream resource: the new token's only audience. */
  readonly audience: string;
  /** Scopes wanted; the grant is the part of them the subject holds (and the actor may have, when `allowedScopes` is given). */
  readonly scopes: readonly string[];
  readonly allowedScopes?: readonly string[];
  readonly ttlSeconds: number;
}

/** Why an exchange was refused; `code` is the RFC 6749/8693 error. */
export class ExchangeRefusedError extends Error {
  constructor(
    readonly code: 'invalid_request' | 'invalid_scope',
    message: string,
  ) {
    super(message);
  }
}

/**
 * RFC 8693 on-behalf-of exchange, the one implementation behind both the
 * token endpoint's token-exchange grant and the orchestrator's own calls to
 * session-buddy: `sub` stays the subject, `act` names the actor with the
 * subject's earlier actors nested inside, `aud` is the downstream resource
 * alone, scopes only narrow, and the new token never outlives the old one.
 * The subject's token itself is never passed on.
 */
@Injectable()
export class TokenExchangeService {
  constructor(private readonly issuer: TokenIssuerService) {}

  /** The granted scopes, or a refusal; separate so callers can check before minting. */
  grantedScopes(request: Pick<ExchangeRequest, 'subject' | 'scopes' | 'allowedScopes'>): string[] {
    const held = new Set(request.subject.scopes);
    const granted = [...new Set(request.scopes)].filter((s) => held.has(s) && (request.allowedScopes?.includes(s) ?? true)).sort();
    // Asking for nothing gets nothing (a health check needs no scope); asking for something and getting nothing is a refusal.
    if (granted.length === 0 && request.scopes.length > 0)
      throw new ExchangeRefusedError('invalid_scope', 'the subject token holds none of the requested scopes that this client may have');
    return granted;
  }

  exchange(request: ExchangeRequest, nowMs = Date.now()): MintedToken & { scopes: string[] } {
    const chain = [request.actor, ...(request.subject.actors ?? [])];
    if (chain.length > MAX_ACTORS) throw new ExchangeRefusedError('invalid_request', `the act chain would be longer than ${MAX_ACTORS}`);
    const scopes = this.grantedScopes(request);
    const now = Math.floor(nowMs / 1000);
    const ttl = request.subject.expiresAt === undefined ? request.ttlSeconds : Math.min(request.ttlSeconds, request.subject.expiresAt - now);
    if (ttl <= 0) throw new ExchangeRefusedError('invalid_request', 'the subject token has expired');
    const minted = this.issuer.mint({ subject: request.subject.subject, audience: request.audience, scopes, ttlSeconds: ttl, actor: chain }, nowMs);
    return { ...minted, scopes };
  }
}
