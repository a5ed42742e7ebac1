import type { ClientJwks } from '@crossauth/auth';

/** A registered OAuth client. Times are ms since the epoch. */
export interface OAuthClientRecord {
  readonly id: string;
  readonly name: string | null;
  /** Scopes it may be granted; a token gets the intersection with what it asks for. */
  readonly allowedScopes: readonly string[];
  /** Resources (MCP server URLs) it may get tokens for: the tokens' audiences. */
  readonly allowedResources: readonly string[];
  /** Keyed hash of its secret, and the id of the key; never the secret. */
  readonly secretHash: string | null;
  readonly secretKeyId: string | null;
  /** Public keys for `private_key_jwt`, instead of a secret. */
  readonly jwks: ClientJwks | null;
  /** Where authorization responses may go; null for a machine client. With no secret and no keys, the client is public. */
  readonly redirectUris: readonly string[] | null;
  readonly createdAt: number;
  readonly secretRotatedAt: number | null;
  /** Registered by the client itself (RFC 7591), and so removed when it goes unused. */
  readonly dynamic: boolean;
  /** When a person's token was last issued to it; null when never. */
  readonly lastUsedAt: number | null;
}

/** Where registered clients are kept. */
export interface OAuthClientRepository {
  /** Resolves false if the id is taken. */
  insert(client: OAuthClientRecord): Promise<boolean>;
  find(id: string): Promise<OAuthClientRecord | undefined>;
  list(): Promise<OAuthClientRecord[]>;
  /** Resolves false if there is no such client. */
  updateSecret(id: string, secretHash: string, secretKeyId: string, rotatedAt: number): Promise<boolean>;
  remove(id: string): Promise<boolean>;
  /** Records that a token was issued to the client. */
  touch(id: string, at: number): Promise<void>;
  /** The dynamically registered clients unused (or never used) since `before`. */
  unusedDynamic(before: number): Promise<string[]>;
}

/** DI token for the {@link OAuthClientRepository}. */
export const OAUTH_CLIENT_REPOSITORY = Symbol('orchestrator:oauth-client-repository');
