import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { AUTH_OPTIONS, TokenIssuerService, scopesForRole, type MintedToken, type ResolvedAuthOptions } from '@crossauth/auth';
import { AccountsService } from '../accounts/accounts.service';
import type { OrchestratorConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';
import type { AuthorizationCodeRecord } from './authorization-code.repository';
import { GRANT_REPOSITORY, type GrantRecord, type GrantRepository, type GrantSelector, type RefreshTokenRecord } from './grant.repository';
import { GrantRevocationService } from './grant-revocation.service';
import type { OAuthClientRecord } from './oauth-client.repository';

/** What a person's client receives from the code or a refresh: an access token and the refresh token that replaces the one it used. */
export interface PersonTokens {
  readonly access: MintedToken;
  readonly refreshToken: string;
  readonly scopes: readonly string[];
  readonly grant: GrantRecord;
}

/** A refused refresh (RFC 6749 §5.2). */
export interface RefreshRefusal {
  readonly error: 'invalid_grant' | 'invalid_scope';
  readonly refused: string;
}

const REFRESH_TOKEN = /^[A-Za-z0-9_-]{43}$/;
const hashOf = (token: string) => createHash('sha256').update(token, 'utf8').digest('base64url');

/**
 * What people granted their clients. Each approval that ends in a token is
 * a grant: a refresh-token family. Refresh tokens are 256 random bits, kept
 * only as a hash, and rotate on every use (OAuth 2.1 §4.3.1, RFC 9700
 * §4.14.2). The token just replaced keeps working until its replacement is
 * first used, so a client that refreshes twice at once does not sign its
 * person out; presenting any token older than that, or presenting one as
 * another client, revokes the whole grant and the access tokens it issued.
 * Scopes are narrowed again on every refresh to what the person's role
 * allows now.
 */
@Injectable()
export class GrantsService {
  private readonly logger = new Logger(GrantsService.name);

  constructor(
    @Inject(GRANT_REPOSITORY) private readonly grants: GrantRepository,
    private readonly issuer: TokenIssuerService,
    private readonly accounts: AccountsService,
    private readonly revocations: GrantRevocationService,
    @Inject(AUTH_OPTIONS) private readonly auth: ResolvedAuthOptions,
    @Inject(orchestratorConfig.KEY) private readonly config: OrchestratorConfig,
  ) {}

  /**
   * Starts a grant from a checked code: its first access and refresh
   * tokens, the code spent and the grant written in one transaction.
   * Resolves `spent` when another redemption of the code won.
   */
  async issueForCode(code: AuthorizationCodeRecord, now = Date.now()): Promise<PersonTokens | 'spent'> {
    const grant: GrantRecord = {
      id: randomUUID(),
      username: code.username,
      clientId: code.clientId,
      resource: code.resource,
      scopes: code.scopes,
      createdAt: now,
      lastUsedAt: now,
      expiresAt: now + this.config.oauth.grantMaxSeconds * 1000,
      revokedAt: null,
      revokedReason: null,
    };
    const issued = this.mint(grant, null, grant.scopes, now);
    return (await this.grants.start(grant, issued.record, code.codeHash)) ? issued.tokens : 'spent';
  }

  /** The refresh-token grant (RFC 6749 §6): a new access token and a new refresh token, or why not. */
  async refresh(presented: string, client: OAuthClientRecord, asked: readonly string[] | undefined, now = Date.now()): Promise<PersonTokens | RefreshRefusal> {
    const found = REFRESH_TOKEN.test(presented) ? await this.grants.findToken(hashOf(presented)) : undefined;
    if (!found) return invalid('the refresh token is not valid');
    const { token, grant } = found;
    if (grant.revokedAt !== null) return invalid('the refresh token was revoked; sign in again');
    if (grant.clientId !== client.id) {
      await this.revokeGrant(grant, 'refresh_token_other_client');
      return invalid('the refresh token was issued to another client; its grant is revoked');
    }
    if (now >= token.expiresAt || now >= grant.expiresAt) return invalid('the refresh token has expired; sign in again');
    if (token.supersededAt !== null) return this.reused(grant, client);

    const user = await this.accounts.find(grant.username);
    if (!user) {
      await this.revokeGrant(grant, 'user_removed');
      return invalid('the person this grant was for no longer has an account');
    }
    const outside = (asked ?? []).filter((s) => !grant.scopes.includes(s));
    if (outside.length) return { error: 'invalid_scope', refused: `the grant does not include ${outside.join(' ')}` };
    const allowed = scopesForRole(user.role);
    const scopes = (asked ?? grant.scopes).filter((s) => allowed.includes(s) && client.allowedScopes.includes(s));
    if (scopes.length === 0) return { error: 'invalid_scope', refused: `the role ${user.role} now allows none of the grant's scopes` };
    // Minted first (no I/O), so spending the token and storing its replacement is one transaction.
    const issued = this.mint(grant, token.tokenHash, scopes, now);
    if ((await this.grants.rotate(token, issued.record, now)) === 'reuse') return this.reused(grant, client);
    return issued.tokens;
  }

  private async reused(grant: GrantRecord, client: OAuthClientRecord): Promise<RefreshRefusal> {
    this.logger.warn({ event: 'refresh_token_reused', grant: grant.id, client: client.id, username: grant.username });
    await this.revokeGrant(grant, 'refresh_token_reused');
    return invalid('the refresh token was already replaced; its grant is revoked, sign in again');
  }

  private mint(grant: GrantRecord, parentHash: string | null, scopes: readonly string[], now: number): { tokens: PersonTokens; record: RefreshTokenRecord } {
    const access = this.issuer.mint(
      { subject: grant.username, audience: grant.resource, scopes, clientId: grant.clientId, ttlSeconds: this.config.oauth.tokenTtlSeconds },
      now,
    );
    const refreshToken = randomBytes(32).toString('base64url');
    const record: RefreshTokenRecord = {
      tokenHash: hashOf(refreshToken),
      grantId: grant.id,
      parentHash,
      createdAt: now,
      expiresAt: Math.min(now + this.config.oauth.refreshTokenTtlSeconds * 1000, grant.expiresAt),
      usedAt: null,
      supersededAt: null,
      accessTokenId: access.tokenId,
    };
    return { tokens: { access, refreshToken, scopes, grant }, record };
  }

  /** RFC 7009 for a refresh token: its grant ends, for the client it was issued to; resolves it, or undefined when it is not this client's. */
  async revokeRefreshToken(presented: string, clientId: string): Promise<GrantRecord | undefined> {
    const found = REFRESH_TOKEN.test(presented) ? await this.grants.findToken(hashOf(presented)) : undefined;
    if (!found || found.grant.clientId !== clientId || found.grant.revokedAt !== null) return undefined;
    await this.revokeGrant(found.grant, 'refresh_token_revoked');
    return found.grant;
  }

  list(selector?: GrantSelector): Promise<GrantRecord[]> {
    return this.grants.list(selector, Date.now());
  }

  /** Ends the selected grants and the access tokens they issued that may still be live; resolves them. */
  async revoke(selector: GrantSelector, reason: string): Promise<GrantRecord[]> {
    const revoked = await this.grants.revoke(selector, Date.now(), reason);
    for (const grant of revoked) await this.revokeAccessTokens(grant);
    return revoked;
  }

  /** Ends one grant whose record is at hand. */
  private async revokeGrant(grant: GrantRecord, reason: string): Promise<void> {
    if ((await this.grants.revoke({ id: grant.id }, Date.now(), reason)).length) await this.revokeAccessTokens(grant);
  }

  /** Revokes a grant started from a replayed code, and its access tokens. */
  async revokeFromCode(grantId: string): Promise<void> {
    await this.revoke({ id: grantId }, 'authorization_code_replayed');
  }

  private async revokeAccessTokens(grant: GrantRecord): Promise<void> {
    const lifetimeMs = (this.config.oauth.tokenTtlSeconds + this.auth.clockSkewSeconds) * 1000;
    const now = Date.now();
    for (const jti of await this.grants.accessTokensSince(grant.id, now - lifetimeMs))
      await this.revocations.revokeToken(jti, Math.ceil((now + lifetimeMs) / 1000), grant.resource, `grant:${grant.id}`);
    this.logger.log({ event: 'grant_revoked', grant: grant.id, client: grant.clientId, username: grant.username });
  }

  /** Whether the person already approved at least these scopes for this client and resource. */
  async consented(username: string, clientId: string, resource: string, scopes: readonly string[]): Promise<boolean> {
    const consent = await this.grants.consentOf(username, clientId, resource);
    return consent !== undefined && scopes.every((s) => consent.scopes.includes(s));
  }

  /** Remembers an approval, adding to what was approved before for this client and resource. */
  async rememberConsent(username: string, clientId: string, resource: string, scopes: readonly string[]): Promise<void> {
    const before = await this.grants.consentOf(username, clientId, resource);
    const union = [...new Set([...(before?.scopes ?? []), ...scopes])];
    await this.grants.rememberConsent({ username, clientId, resource, scopes: union, grantedAt: Date.now() });
  }

  /**
   * "Sign out everywhere": the person's grants end, their browser sign-ins
   * end, and every token naming them as subject stops working here and at
   * session-buddy. Consents are kept: signing in again does not ask again.
   */
  async signOutEverywhere(username: string): Promise<{ readonly grants_revoked: number; readonly tokens: unknown }> {
    const name = username.toLowerCase();
    await this.accounts.signOut(name);
    const revoked = await this.revoke({ username: name }, 'sign_out_everywhere');
    return { grants_revoked: revoked.length, tokens: await this.revocations.revokePerson(name, 'sign_out_everywhere') };
  }

  /** Removes a local account and everything it granted. */
  async removePerson(username: string): Promise<{ readonly grants_revoked: number; readonly tokens: unknown }> {
    const name = username.toLowerCase();
    const outcome = await this.signOutEverywhere(name);
    await this.grants.forgetConsents(name);
    await this.accounts.remove(name);
    return outcome;
  }

  /** Forgets grants that ended a day or more ago. */
  prune(now = Date.now()): Promise<number> {
    return this.grants.deleteEnded(now - 86_400_000);
  }
}

const invalid = (refused: string): RefreshRefusal => ({ error: 'invalid_grant', refused });
