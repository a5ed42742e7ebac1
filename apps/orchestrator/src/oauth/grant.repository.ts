/**
 * A person's approval of one client for one resource, alive while it has a
 * refresh token that works: the refresh-token family. Times are ms since the epoch.
 */
export interface GrantRecord {
  readonly id: string;
  readonly username: string;
  readonly clientId: string;
  readonly resource: string;
  readonly scopes: readonly string[];
  readonly createdAt: number;
  readonly lastUsedAt: number;
  /** The family's absolute end: no refresh past it, however often it is used. */
  readonly expiresAt: number;
  readonly revokedAt: number | null;
  readonly revokedReason: string | null;
}

/** One refresh token of a family, stored by the hash of the token, never the token. */
export interface RefreshTokenRecord {
  readonly tokenHash: string;
  readonly grantId: string;
  /** The token it replaced; null for the first of its family. */
  readonly parentHash: string | null;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** When it was first exchanged for a replacement. */
  readonly usedAt: number | null;
  /** When a replacement of its parent (or of itself) was first used: from then on, presenting it is a reuse. */
  readonly supersededAt: number | null;
  /** The jti of the access token issued with it, revoked with the family. */
  readonly accessTokenId: string;
}

/** What a person approved for a client and resource, so they are not asked again for the same or fewer scopes. */
export interface ConsentRecord {
  readonly username: string;
  readonly clientId: string;
  readonly resource: string;
  readonly scopes: readonly string[];
  readonly grantedAt: number;
}

/** Which grants a revocation or a listing is about. */
export type GrantSelector = { readonly id: string } | { readonly username: string } | { readonly clientId: string };

/** Where grants, their refresh tokens and remembered consents are kept, shared by every instance. */
export interface GrantRepository {
  /**
   * Spends the authorization code and writes the grant it starts with its
   * first refresh token, in one transaction; resolves false, writing
   * nothing, when the code was spent already (the other redemption won).
   */
  start(grant: GrantRecord, token: RefreshTokenRecord, codeHash: string): Promise<boolean>;
  findToken(tokenHash: string): Promise<{ readonly token: RefreshTokenRecord; readonly grant: GrantRecord } | undefined>;
  /**
   * Spends `parent` for `child`, in one transaction: its first use (its own
   * parent and unused siblings are superseded), a use while an earlier
   * replacement is still unused (`parallel`), or a reuse of a superseded
   * token, when nothing is written.
   */
  rotate(parent: RefreshTokenRecord, child: RefreshTokenRecord, at: number): Promise<'first' | 'parallel' | 'reuse'>;
  /** Grants not revoked and not past their end, newest first. */
  list(selector: GrantSelector | undefined, now: number): Promise<GrantRecord[]>;
  /** Revokes the selected grants that are not revoked yet; resolves them. */
  revoke(selector: GrantSelector, at: number, reason: string): Promise<GrantRecord[]>;
  /** The jtis of the access tokens issued in a grant at or after `since`. */
  accessTokensSince(grantId: string, since: number): Promise<string[]>;
  consentOf(username: string, clientId: string, resource: string): Promise<ConsentRecord | undefined>;
  rememberConsent(consent: ConsentRecord): Promise<void>;
  /** Forgets the consents of a person, or of one client of theirs; resolves how many. */
  forgetConsents(username: string, clientId?: string): Promise<number>;
  /** Removes grants that ended or were revoked before `before`, with their tokens; resolves how many grants. */
  deleteEnded(before: number): Promise<number>;
}

/** DI token for the {@link GrantRepository}. */
export const GRANT_REPOSITORY = Symbol('orchestrator:grant-repository');
