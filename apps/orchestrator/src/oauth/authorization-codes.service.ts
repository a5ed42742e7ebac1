import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { pkceVerifierMatches } from '@crossauth/auth';
import { AUTHORIZATION_CODE_REPOSITORY, type AuthorizationCodeRecord, type AuthorizationCodeRepository, type CodeGrant } from './authorization-code.repository';

/** How long a code lives: one browser redirect and one token request (RFC 6749 §4.1.2 recommends at most 10 minutes). */
export const AUTHORIZATION_CODE_TTL_MS = 60_000;

/** What the token request presents with the code. */
export interface CodeRedemption {
  readonly code: string;
  readonly clientId: string;
  readonly redirectUri: string | undefined;
  readonly resource: string | undefined;
  readonly codeVerifier: string | undefined;
}

/** A refused redemption: always `invalid_grant` (RFC 6749 §5.2); a replay names the tokens to revoke and their audience. */
export interface CodeRefusal {
  readonly refused: string;
  readonly revoke?: { readonly tokenIds: readonly string[]; readonly resource: string; readonly grantId: string | null };
}

const hashOf = (code: string) => createHash('sha256').update(code, 'utf8').digest('base64url');

/**
 * Authorization codes: 256 random bits, stored only as a SHA-256 hash,
 * single use, short-lived, and bound to the client, the redirect URI, the
 * resource, the person and the PKCE challenge. Any redemption attempt uses
 * the code up, so a stolen code tried with a wrong verifier is gone for the
 * thief and the owner alike; presenting a used code again revokes what it
 * gave (RFC 9700 §4.5).
 */
@Injectable()
export class AuthorizationCodesService {
  private readonly logger = new Logger(AuthorizationCodesService.name);

  constructor(@Inject(AUTHORIZATION_CODE_REPOSITORY) private readonly codes: AuthorizationCodeRepository) {}

  async issue(grant: CodeGrant, nowMs = Date.now()): Promise<string> {
    const code = randomBytes(32).toString('base64url');
    await this.codes.insert({
      ...grant,
      codeHash: hashOf(code),
      createdAt: nowMs,
      expiresAt: nowMs + AUTHORIZATION_CODE_TTL_MS,
      redeemedAt: null,
      tokenIds: null,
      grantId: null,
    });
    return code;
  }

  async redeem(request: CodeRedemption, nowMs = Date.now()): Promise<{ readonly grant: AuthorizationCodeRecord } | CodeRefusal> {
    const outcome = /^[A-Za-z0-9_-]{43}$/.test(request.code) ? await this.codes.redeem(hashOf(request.code), nowMs) : undefined;
    if (!outcome) return { refused: 'the authorization code is not valid' };
    if ('replayed' in outcome) {
      const record = outcome.replayed;
      this.logger.warn({ event: 'authorization_code_replayed', client: record.clientId, username: record.username });
      return {
        refused: 'the authorization code was already used; the tokens issued from it are revoked',
        revoke: { tokenIds: record.tokenIds ?? [], resource: record.resource, grantId: record.grantId },
      };
    }
    const code = outcome.redeemed;
    // Every check below runs after the code is used up: no guess gets a second try.
    if (nowMs >= code.expiresAt) return { refused: 'the authorization code has expired' };
    if (request.clientId !== code.clientId) return { refused: 'the authorization code was issued to another client' };
    if (request.redirectUri !== code.redirectUri) return { refused: 'redirect_uri differs from the one in the authorization request' };
    if (request.resource !== undefined && request.resource !== code.resource) return { refused: `resource differs from the one authorized (${code.resource})` };
    if (!pkceVerifierMatches(request.codeVerifier, code.codeChallenge))
      return { refused: request.codeVerifier === undefined ? 'code_verifier is required (PKCE)' : 'code_verifier does not match the code_challenge' };
    return { grant: code };
  }

  /** Remembers the tokens and the grant made from a code, so a replay can revoke them. */
  tokensIssued(code: string, tokenIds: readonly string[], grantId: string | null): Promise<void> {
    return this.codes.recordTokens(hashOf(code), tokenIds, grantId);
  }

  /** Forgets codes that expired an hour or more ago (a replay of one is refused as unknown). */
  prune(nowMs = Date.now()): Promise<number> {
    return this.codes.deleteExpired(nowMs - 3_600_000);
  }
}
