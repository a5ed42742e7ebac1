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
}

/** DI token for the {@link OAuthClientRepository}. */
export const OAUTH_CLIENT_REPOSITORY = Symbol('orchestrator:oauth-client-repository');
