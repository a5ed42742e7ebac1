import { Inject, Injectable } from '@nestjs/common';
import { AUTH_OPTIONS } from '../auth.constants';
import { AuthError } from '../auth.errors';
import type { ResolvedAuthOptions } from '../auth-options';
import type { Principal } from '../principal';
import type { RevocationStore } from '../revocation/revocation-store';
import type { OutsideIssuer } from '../trust/trusted-issuers';
import { legacyIssuerEnded, validateClaims, validateOutsideClaims } from './claims';
import { isAccessTokenTyp, unverifiedClaims, verifyJwsSignature, verifyOutsideSignature, type JwtClaims } from './jwt-codec';
import { canonicalIssuer, type LegacyIssuer } from './legacy-issuer';
import { VerificationCache } from './verification-cache';

/** Who a token was granted to and for what, as its signed claims say; any part may be absent. */
export interface TokenGrant {
  readonly subject?: string;
  /** RFC 9068 `client_id`: the client it was issued to, when that is not the subject (a person's client). */
  readonly clientId?: string;
  readonly audience?: string;
  readonly tokenId?: string;
  readonly expiresAt?: number;
}

/**
 * Verifies access tokens: size limit, signature (HS256 against the key ring,
 * EdDSA/ES256 against public keys, each key pinned to its algorithm), claims,
 * the key's issuer, then revocation. Successful results are cached (bounded, per token,
 * never past `exp`); revocation is still checked on every hit so a revoked
 * token stops working at once, whichever process revoked it.
 */
@Injectable()
export class TokenVerifierService {
  private readonly cache: VerificationCache | undefined;
  private readonly revocations: RevocationStore;
  /** Legacy issuer names by name; a cached principal of one is refused once its window ends. */
  private readonly legacy: ReadonlyMap<string, LegacyIssuer> | undefined;

  constructor(@Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions) {
    this.cache = options.cacheEnabled ? new VerificationCache(options.cacheMaxEntries) : undefined;
    this.revocations = options.revocationStore;
    this.legacy = options.legacyIssuers.length ? new Map(options.legacyIssuers.map((l) => [l.name, l])) : undefined;
    // A changed trust entry may narrow what its tokens were granted: their cached verifications go.
    options.trustedIssuers?.onChange((changed) => this.evict((p) => changed.has(p.issuer)));
  }

  /** Returns the principal for a valid access token or throws a typed {@link AuthError}. */
  verify(token: string | undefined, nowMs: number = Date.now()): Principal {
    if (token === undefined || token === '') throw new AuthError('missing');
    if (token.length > this.options.maxTokenBytes) throw new AuthError('too_large', 'token exceeds the size limit');
    const cache = this.cache && this.revocations.allowsCaching?.() !== false ? this.cache : undefined;
    const cached = cache?.get(token);
    if (cached) {
      // The LRU TTL also ends at exp + skew, but its clock is not ours to rely on.
      if (nowMs >= (cached.expiresAt + this.options.clockSkewSeconds) * 1000) throw new AuthError('expired', 'exp is in the past');
      const legacy = this.legacy?.get(cached.issuer);
      if (legacy && nowMs >= legacy.until.getTime()) throw legacyIssuerEnded(legacy);
      // Revocation can change at any moment, so it is never cached.
      if (this.revocations.isRevoked(cached)) throw new AuthError('revoked', 'token or its subject was revoked');
      return cached;
    }
    const principal = this.verifyUncached(token, nowMs);
    cache?.set(token, principal, (principal.expiresAt + this.options.clockSkewSeconds) * 1000 - nowMs);
    return principal;
  }

  /** Full verification with no cache: for diagnostics that must explain a token. */
  verifyUncached(token: string, nowMs: number = Date.now()): Principal {
    if (token.length > this.options.maxTokenBytes) throw new AuthError('too_large', 'token exceeds the size limit');
    const trusted = this.options.trustedIssuers;
    if (trusted?.size) {
      const claims = unverifiedClaims(token);
      const iss = claims?.['iss'];
      const outside = typeof iss === 'string' ? trusted.get(iss) : undefined;
      if (outside) return this.checkOutside(token, claims as JwtClaims, outside, nowMs);
      // Neither ours nor trusted: say so, rather than which of our algorithms it failed.
      if (typeof iss === 'string' && !this.isOwnIssuer(iss))
        throw new AuthError('wrong_issuer', `issuer ${JSON.stringify(iss)} is neither this deployment's nor a trusted outside issuer`);
    }
    return this.check(token, this.options, nowMs);
  }

  private isOwnIssuer(iss: string): boolean {
    return this.options.allowedIssuers.includes(iss) || this.options.legacyIssuers.some((l) => l.name === iss);
  }

  /** A token naming a trusted outside issuer: that issuer's keys and algorithms only, then its trust entry's claim rules. */
  private checkOutside(token: string, claims: JwtClaims, outside: OutsideIssuer, nowMs: number): Principal {
    verifyOutsideSignature(token, outside.keys, outside.settings.algorithms);
    const principal = validateOutsideClaims(
      claims,
      { ...outside.settings, clockSkewSeconds: this.options.clockSkewSeconds, maxTokenLifetimeSeconds: this.options.maxTokenLifetimeSeconds },
      Math.floor(nowMs / 1000),
    );
    if (this.revocations.isRevoked(principal)) throw new AuthError('revoked', 'token or its subject was revoked');
    return principal;
  }

  /**
   * Is this a token of ours, valid now, for one of `audiences`, issued by
   * `issuer`, and not revoked? The authorization server asks it of subject
   * tokens and introspected tokens, whose audience is some resource rather
   * than itself; no legacy (audience-less) token qualifies. Never cached.
   */
  activeFor(token: string, audiences: readonly string[], issuer: string, nowMs: number = Date.now()): Principal | undefined {
    if (audiences.length === 0) return undefined;
    try {
      return this.check(token, { ...this.options, allowedIssuers: [issuer], audiences, acceptLegacyTokens: false }, nowMs);
    } catch (error) {
      if (error instanceof AuthError) return undefined;
      throw error;
    }
  }

  /**
   * Whose grant a token is, judged by its signature alone: expiry, audience
   * and revocation do not matter, because the question is asked to revoke it.
   * Throws {@link AuthError} when the signature is not one of ours.
   */
  grantOf(token: string): TokenGrant {
    if (token.length > this.options.maxTokenBytes) throw new AuthError('too_large', 'token exceeds the size limit');
    const { claims } = verifyJwsSignature(token, this.options);
    const aud = Array.isArray(claims['aud']) ? claims['aud'][0] : claims['aud'];
    return {
      ...(typeof claims['sub'] === 'string' ? { subject: claims['sub'] } : {}),
      ...(typeof claims['client_id'] === 'string' ? { clientId: claims['client_id'] } : {}),
      ...(typeof aud === 'string' ? { audience: aud } : {}),
      ...(typeof claims['jti'] === 'string' ? { tokenId: claims['jti'] } : {}),
      ...(typeof claims['exp'] === 'number' ? { expiresAt: claims['exp'] } : {}),
    };
  }

  private check(token: string, policy: ResolvedAuthOptions, nowMs: number): Principal {
    if (token.length > this.options.maxTokenBytes) throw new AuthError('too_large', 'token exceeds the size limit');
    const { keyRing, publicKeys } = this.options;
    if (!keyRing && !publicKeys) throw new AuthError('unknown_key', 'auth is disabled: this server holds no key');
    const { header, claims, key, symmetric } = verifyJwsSignature(token, this.options);
    const principal = validateClaims(claims, policy, Math.floor(nowMs / 1000), isAccessTokenTyp(header.typ));
    // A key speaks for one issuer: an issuer's JWKS cannot vouch for another, and an
    // issuer that signs with public keys cannot be impersonated with a shared secret.
    const issuer = canonicalIssuer(principal.issuer, this.options.legacyIssuers);
    if (symmetric && publicKeys?.issuers.includes(issuer)) {
      throw new AuthError('wrong_issuer', `issuer ${principal.issuer} signs with public keys; an HS256 token naming it is refused`);
    }
    const keyIssuer = 'issuer' in key ? key.issuer : undefined;
    if (keyIssuer !== undefined && keyIssuer !== issuer) {
      throw new AuthError('wrong_issuer', `key ${key.kid} belongs to issuer ${keyIssuer}, not ${principal.issuer}`);
    }
    if (this.revocations.isRevoked(principal)) throw new AuthError('revoked', 'token or its subject was revoked');
    return principal;
  }

  /** Evicts cached verifications whose principal matches (used when revoking). */
  evict(matches: (principal: Principal) => boolean): number {
    return this.cache?.evict(matches) ?? 0;
  }

  get cacheStats(): { enabled: boolean; size: number; hits: number; misses: number; hitRatio: number } {
    return { enabled: Boolean(this.cache), ...(this.cache?.stats ?? { size: 0, hits: 0, misses: 0, hitRatio: 0 }) };
  }
}
