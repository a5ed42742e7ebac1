/** What a code is issued for: the signed-in person's approval of one client's request. */
export interface CodeGrant {
  readonly clientId: string;
  readonly username: string;
  readonly redirectUri: string;
  readonly resource: string;
  readonly scopes: readonly string[];
  /** The S256 PKCE challenge the authorization request carried. */
  readonly codeChallenge: string;
}

/** An authorization code as stored: by the hash of the code, never the code. Times are ms since the epoch. */
export interface AuthorizationCodeRecord extends CodeGrant {
  readonly codeHash: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly redeemedAt: number | null;
  /** The grant (refresh-token family) started from it, revoked with its tokens on a replay; the grant store sets it. */
  readonly grantId: string | null;
}

/** Where authorization codes are kept, so one issued by any instance redeems on any instance exactly once. */
export interface AuthorizationCodeRepository {
  insert(code: AuthorizationCodeRecord): Promise<void>;
  find(codeHash: string): Promise<AuthorizationCodeRecord | undefined>;
  /** Spends a code that failed its checks (it is not tried again); the grant store spends the ones that pass. */
  redeem(codeHash: string, at: number): Promise<void>;
  /** Removes codes that expired before `before`; resolves how many. */
  deleteExpired(before: number): Promise<number>;
}

/** DI token for the {@link AuthorizationCodeRepository}. */
export const AUTHORIZATION_CODE_REPOSITORY = Symbol('orchestrator:authorization-code-repository');
