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

/** DI token for the {@link UserRepository}. */
export const USER_REPOSITORY = Symbol('orchestrator:user-repository');
