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

/** A refused redemption: always `invalid_grant` (RFC 6749 §5.2). */
export interface CodeRefusal {
  readonly refused: string;
  /** A replay: the grant its first redemption started, to revoke with its tokens. */
  readonly revoke?: { readonly grantId: string | null };
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
      grantId: null,
    });
    return code;
  }

  /**
   * Checks a presented code. A code that passes is not yet spent: the grant
   * store spends it in the same transaction that starts its grant (see
   * GrantRepository.start), so exactly one redemption wins. A code that
   * fails any check is spent here: no guess gets a second try.
   */
  async redeem(request: CodeRedemption, nowMs = Date.now()): Promise<{ readonly grant: AuthorizationCodeRecord } | CodeRefusal> {
    const hash = /^[A-Za-z0-9_-]{43}$/.test(request.code) ? hashOf(request.code) : undefined;
    const code = hash ? await this.codes.find(hash) : undefined;
    if (!hash || !code) return { refused: 'the authorization code is not valid' };
    if (code.redeemedAt !== null) {
      this.logger.warn({ event: 'authorization_code_replayed', client: code.clientId, username: code.username });
      return { refused: 'the authorization code was already used; the tokens issued from it are revoked', revoke: { grantId: code.grantId } };
    }
    const refused = this.problem(request, code, nowMs);
    if (refused) {
      await this.codes.redeem(hash, nowMs);
      return { refused };
    }
    return { grant: code };
  }

  private problem(request: CodeRedemption, code: AuthorizationCodeRecord, nowMs: number): string | undefined {
    if (nowMs >= code.expiresAt) return 'the authorization code has expired';
    if (request.clientId !== code.clientId) return 'the authorization code was issued to another client';
    if (request.redirectUri !== code.redirectUri) return 'redirect_uri differs from the one in the authorization request';
    if (request.resource !== undefined && request.resource !== code.resource) return `resource differs from the one authorized (${code.resource})`;
    if (!pkceVerifierMatches(request.codeVerifier, code.codeChallenge))
      return request.codeVerifier === undefined ? 'code_verifier is required (PKCE)' : 'code_verifier does not match the code_challenge';
    return undefined;
  }

  /** Forgets codes that expired an hour or more ago (a replay of one is refused as unknown). */
  prune(nowMs = Date.now()): Promise<number> {
    return this.codes.deleteExpired(nowMs - 3_600_000);
  }
}
