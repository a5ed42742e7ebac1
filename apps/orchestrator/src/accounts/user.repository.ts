/** The roles a person may hold; each maps to scopes as a token's `role` claim does (viewer: read, developer: read write, admin). */
export const USER_ROLES = ['viewer', 'developer', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** A local account. Times are ms since the epoch. */
export interface UserRecord {
  /** Lower-case; the subject of the tokens this person gets. */
  readonly username: string;
  /** scrypt PHC string; never the password. */
  readonly passwordHash: string;
  readonly role: UserRole;
  readonly createdAt: number;
  readonly passwordChangedAt: number;
  /** Browser sign-ins made before this end ("sign out everywhere"); null when never. */
  readonly signedOutAt: number | null;
  /** The upstream OpenID provider this person signs in through (its issuer), or null for a local account. */
  readonly identityProvider: string | null;
  /** Their `sub` at that provider; null for a local account. */
  readonly externalSubject: string | null;
}

/** Where local accounts are kept. */
export interface UserRepository {
  /** Resolves false if the username is taken. */
  insert(user: UserRecord): Promise<boolean>;
  find(username: string): Promise<UserRecord | undefined>;
  /** The person a provider's subject was provisioned as. */
  findExternal(identityProvider: string, externalSubject: string): Promise<UserRecord | undefined>;
  list(): Promise<UserRecord[]>;
  count(): Promise<number>;
  /** Each resolves false if there is no such user. */
  updatePassword(username: string, passwordHash: string, changedAt: number): Promise<boolean>;
  updateRole(username: string, role: UserRole): Promise<boolean>;
  updateSignedOut(username: string, at: number): Promise<boolean>;
  remove(username: string): Promise<boolean>;
}

/** A `users` row as either engine returns it (PostgreSQL's BIGINT columns arrive as strings). */
export interface UserRow {
  readonly username: string;
  readonly password_hash: string;
  readonly role: UserRole;
  readonly created_at: number | string;
  readonly password_changed_at: number | string;
  readonly signed_out_at: number | string | null;
  readonly identity_provider: string | null;
  readonly external_subject: string | null;
}

export function userFromRow(r: UserRow): UserRecord {
  return {
    username: r.username,
    passwordHash: r.password_hash,
    role: r.role,
    createdAt: Number(r.created_at),
    passwordChangedAt: Number(r.password_changed_at),
    signedOutAt: r.signed_out_at === null ? null : Number(r.signed_out_at),
    identityProvider: r.identity_provider,
    externalSubject: r.external_subject,
  };
}

/** DI token for the {@link UserRepository}. */
export const USER_REPOSITORY = Symbol('orchestrator:user-repository');
