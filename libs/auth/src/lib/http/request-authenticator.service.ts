import { Inject, Injectable } from '@nestjs/common';
import { AUTH_OPTIONS } from '../auth.constants';
import { AuthError } from '../auth.errors';
import type { ResolvedAuthOptions } from '../auth-options';
import { ANONYMOUS_PRINCIPAL, LOCAL_PRINCIPAL, missingScopes, type Principal } from '../principal';
import { TokenVerifierService } from '../tokens/token-verifier.service';
import { sameCanonicalBase64 } from '../signing/canonical-base64';
import { extractBearerToken, tokenDigest, type CredentialSource } from './bearer';

/** The outcome of authenticating one request. */
export interface Authentication {
  readonly principal: Principal;
  /** Compares a candidate with the presented token (constant time), when there was one. */
  readonly matchesPresentedToken?: (candidate: string) => boolean;
}

/**
 * Turns a request's credentials into a principal according to the auth mode.
 * Shared by the global guard and the MCP transport so both decide identically.
 */
@Injectable()
export class RequestAuthenticatorService {
  constructor(
    @Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
    private readonly verifier: TokenVerifierService,
  ) {}

  get mode(): ResolvedAuthOptions['mode'] {
    return this.options.mode;
  }

  get resourceMetadataUrl(): string | undefined {
    return this.options.resourceMetadataUrl;
  }

  /** Authenticates HTTP credentials. `optional` lets a token-less call through as anonymous. */
  authenticate(source: CredentialSource, optional = false): Authentication {
    if (this.options.mode === 'disabled') return { principal: LOCAL_PRINCIPAL };
    const token = extractBearerToken(source);
    return this.authenticateToken(token, optional);
  }

  /** Authenticates a token given out of band (the stdio `token` argument). */
  authenticateToken(token: string | undefined, optional = false): Authentication {
    if (this.options.mode === 'disabled') return { principal: LOCAL_PRINCIPAL };
    if (token === undefined || token === '') {
      if (optional || this.options.mode === 'optional') return { principal: ANONYMOUS_PRINCIPAL };
      throw new AuthError('missing');
    }
    // A token that is present must be valid, whatever the mode.
    return {
      principal: this.verifier.verify(token),
      // Digests are computed only if a caller ever compares (the stdio-style `token` argument over HTTP),
      // keeping hashing off the per-request path; comparing digests keeps the check constant-time.
      matchesPresentedToken: (candidate) => sameCanonicalBase64(tokenDigest(candidate), tokenDigest(token)),
    };
  }

  /** Throws `insufficient_scope` naming what is missing. */
  authorize(principal: Principal, requiredScopes: readonly string[]): void {
    const missing = missingScopes(principal, requiredScopes);
    if (missing.length > 0) {
      throw new AuthError('insufficient_scope', `needs ${missing.join(' ')}`, missing);
    }
  }
}
