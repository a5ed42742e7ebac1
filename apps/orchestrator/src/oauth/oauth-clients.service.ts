import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  AUTH_OPTIONS,
  SCOPES,
  ClientAssertionError,
  assertPublicJwks,
  clientSecretMatches,
  deriveClientSecretKey,
  generateClientSecret,
  hashClientSecret,
  isClientMetadataUrl,
  verifyClientAssertion,
  type ClientJwks,
  type ResolvedAuthOptions,
  redirectUriProblem,
} from '@crossauth/auth';
import { ToolError } from '@crossauth/mcp-server';
import { SUBJECT_NAMES, type SubjectNames } from '../storage/subject-names';
import { ClientMetadataDocumentsService } from './client-metadata-documents.service';
import { OAUTH_CLIENT_REPOSITORY, type OAuthClientRecord, type OAuthClientRepository } from './oauth-client.repository';

/** What registering a client takes. */
export interface NewClient {
  readonly id: string;
  readonly name?: string;
  readonly scopes: readonly string[];
  readonly resources: readonly string[];
  /** Public keys for `private_key_jwt`; without them the client gets a secret. */
  readonly jwks?: unknown;
  /** A public client (an MCP client on a person's machine): no secret, no keys; needs redirect URIs. */
  readonly public?: boolean;
  /** Where authorization responses may go, for clients people sign in through. */
  readonly redirectUris?: readonly string[];
  /** Registered by the client itself (RFC 7591). */
  readonly dynamic?: boolean;
}

/** Why a client assertion was refused, in the words the token endpoint answers with. */
export type AssertionOutcome = { client: OAuthClientRecord } | { refused: string; retryLater?: boolean };

const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** Longest an assertion may live (the SDK's default lifetime): bounds how long its jti is remembered. */
export const ASSERTION_MAX_LIFETIME_SECONDS = 300;
// Spent on unknown client ids too, so a miss takes as long as a wrong secret.
const DECOY_HASH = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/**
 * Registered OAuth clients and their secrets. A secret is generated here,
 * returned once, and stored only as a keyed hash under a key derived from the
 * orchestrator's current secret (its key id stored beside it); after a
 * rotation of that secret, a client's next successful authentication re-hashes
 * it under the new key, and clients that have not authenticated before the old
 * secret is dropped need `rotate-secret`.
 */
@Injectable()
export class OAuthClientsService {
  private readonly logger = new Logger(OAuthClientsService.name);
  private readonly hashKeys = new Map<string, Buffer>();

  constructor(
    @Inject(OAUTH_CLIENT_REPOSITORY) private readonly clients: OAuthClientRepository,
    @Inject(AUTH_OPTIONS) private readonly auth: ResolvedAuthOptions,
    @Inject(SUBJECT_NAMES) private readonly subjects: SubjectNames,
    private readonly documents: ClientMetadataDocumentsService,
  ) {}

  async add(input: NewClient): Promise<{ client: OAuthClientRecord; secret?: string }> {
    validate(input);
    if ((await this.subjects.holderOf(input.id)) === 'user') throw new ToolError(`client id ${input.id} is a person's username; pick another`, 'client_exists');
    let jwks: ClientJwks | null = null;
    if (input.jwks !== undefined) {
      try {
        jwks = assertPublicJwks(input.jwks);
      } catch (error) {
        if (error instanceof ClientAssertionError) throw new ToolError(`jwks: ${error.message}`, 'invalid_argument');
        throw error;
      }
    }
    const secret = jwks || input.public ? undefined : generateClientSecret();
    const hashed = secret === undefined ? undefined : this.hashUnderCurrentKey(secret);
    const client: OAuthClientRecord = {
      id: input.id,
      name: input.name ?? null,
      allowedScopes: [...new Set(input.scopes)],
      allowedResources: [...new Set(input.resources)],
      secretHash: hashed?.hash ?? null,
      secretKeyId: hashed?.kid ?? null,
      jwks,
      redirectUris: input.redirectUris?.length ? [...new Set(input.redirectUris)] : null,
      createdAt: Date.now(),
      secretRotatedAt: null,
      dynamic: input.dynamic ?? false,
      lastUsedAt: null,
    };
    if (!(await this.clients.insert(client))) throw new ToolError(`client ${input.id} already exists`, 'client_exists');
    this.logger.log({ event: 'oauth_client_added', client: input.id, scopes: client.allowedScopes, resources: client.allowedResources });
    return { client, secret };
  }

  async rotateSecret(id: string): Promise<string> {
    const existing = await this.clients.find(id);
    if (existing?.jwks) throw new ToolError(`client ${id} authenticates with private_key_jwt: it has keys, not a secret`, 'invalid_argument');
    if (existing && !existing.secretHash) throw new ToolError(`client ${id} is public: it has no secret to rotate`, 'invalid_argument');
    const secret = generateClientSecret();
    const { hash, kid } = this.hashUnderCurrentKey(secret);
    if (!(await this.clients.updateSecret(id, hash, kid, Date.now()))) throw new ToolError(`no client ${id}`, 'client_not_found');
    this.logger.log({ event: 'oauth_client_secret_rotated', client: id });
    return secret;
  }

  async remove(id: string): Promise<boolean> {
    const removed = await this.clients.remove(id);
    if (removed) this.logger.warn({ event: 'oauth_client_removed', client: id });
    return removed;
  }

  list(): Promise<OAuthClientRecord[]> {
    return this.clients.list();
  }

  /**
   * Records that a person's token was issued to a registered client, at most
   * once an hour per client (it decides only when an unused registration
   * expires); a metadata-document client has no record.
   */
  async used(client: OAuthClientRecord, now = Date.now()): Promise<void> {
    if (isClientMetadataUrl(client.id) || (client.lastUsedAt !== null && now - client.lastUsedAt < 3_600_000)) return;
    await this.clients.touch(client.id, now);
  }

  /** The dynamically registered clients nobody used since `before`. */
  unusedDynamic(before: number): Promise<string[]> {
    return this.clients.unusedDynamic(before);
  }

  find(id: string): Promise<OAuthClientRecord | undefined> {
    return this.clients.find(id);
  }

  /** The client when it is public (no secret, no keys, redirect URIs): the one kind that may authenticate with `none`. */
  async findPublic(id: string): Promise<OAuthClientRecord | undefined> {
    const found = await this.forSignIn(id);
    return found && 'id' in found && isPublicClient(found) ? found : undefined;
  }

  /** A client a person may sign in through: registered, or known by its Client ID Metadata Document (or why that document is refused). */
  async forSignIn(id: string): Promise<OAuthClientRecord | { readonly refused: string } | undefined> {
    if (isClientMetadataUrl(id)) {
      const resolved = await this.documents.resolve(id);
      return 'client' in resolved ? resolved.client : resolved;
    }
    return CLIENT_ID.test(id) ? this.clients.find(id) : undefined;
  }

  /**
   * `private_key_jwt` (RFC 7523): the client whose registered key signed the
   * assertion for one of `audiences`, once: its `jti` goes into the replay store
   * (shared across instances with Redis) until the assertion expires.
   */
  async authenticateAssertion(assertion: string, claimedId: string | undefined, audiences: readonly string[]): Promise<AssertionOutcome> {
    const id = claimedId ?? unverifiedIssuer(assertion);
    const client = id && CLIENT_ID.test(id) ? await this.clients.find(id) : undefined;
    if (!client?.jwks) return { refused: 'client authentication failed' };
    let verified: { jti: string; exp: number };
    try {
      verified = verifyClientAssertion(assertion, {
        clientId: client.id,
        jwks: client.jwks,
        audiences,
        nowSeconds: Math.floor(Date.now() / 1000),
        clockSkewSeconds: this.auth.clockSkewSeconds,
        maxLifetimeSeconds: ASSERTION_MAX_LIFETIME_SECONDS + this.auth.clockSkewSeconds,
      });
    } catch (error) {
      if (error instanceof ClientAssertionError) return { refused: `client assertion refused: ${error.message}` };
      throw error;
    }
    const verdict = await this.auth.nonceStore.remember(`client-assertion:${client.id}:${verified.jti}`, (verified.exp + this.auth.clockSkewSeconds) * 1000);
    if (verdict === 'replayed') return { refused: 'client assertion refused: this jti was already used' };
    if (verdict !== 'fresh') return { refused: 'the replay store cannot take the assertion now', retryLater: true };
    return { client };
  }

  /** The client when `secret` is its secret; undefined for an unknown client or a wrong secret, alike. */
  async authenticate(id: string, secret: string): Promise<OAuthClientRecord | undefined> {
    const client = CLIENT_ID.test(id) ? await this.clients.find(id) : undefined;
    const key = client?.secretKeyId ? this.hashKey(client.secretKeyId) : undefined;
    if (!client?.secretHash || !key) {
      clientSecretMatches(secret, DECOY_HASH, this.hashKey(this.currentKid()) ?? Buffer.alloc(32));
      return undefined;
    }
    if (!clientSecretMatches(secret, client.secretHash, key)) return undefined;
    if (client.secretKeyId !== this.currentKid()) {
      const { hash, kid } = this.hashUnderCurrentKey(secret);
      await this.clients.updateSecret(client.id, hash, kid, client.secretRotatedAt ?? client.createdAt);
    }
    return client;
  }

  private currentKid(): string {
    const ring = this.auth.keyRing;
    if (!ring) throw new ToolError('auth is disabled: no key to protect client secrets with', 'auth_disabled');
    return ring.current.kid;
  }

  private hashKey(kid: string): Buffer | undefined {
    let key = this.hashKeys.get(kid);
    if (!key) {
      const managed = this.auth.keyRing?.find(kid);
      if (!managed) return undefined;
      key = deriveClientSecretKey(managed.key);
      this.hashKeys.set(kid, key);
    }
    return key;
  }

  private hashUnderCurrentKey(secret: string): { hash: string; kid: string } {
    const kid = this.currentKid();
    return { hash: hashClientSecret(secret, this.hashKey(kid) as Buffer), kid };
  }
}

function validate(input: NewClient): void {
  if (!CLIENT_ID.test(input.id))
    throw new ToolError('id: 1-128 characters of letters, digits and . _ : -, starting with a letter or digit', 'invalid_argument');
  if (input.scopes.length === 0) throw new ToolError('scopes: at least one', 'invalid_argument');
  const unknown = input.scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown.length) throw new ToolError(`scopes: unknown ${unknown.join(' ')} (known: ${SCOPES.join(' ')})`, 'invalid_argument');
  if (input.resources.length === 0) throw new ToolError('resources: at least one MCP server URL', 'invalid_argument');
  if (input.public && input.jwks !== undefined) throw new ToolError('a public client has no keys: drop jwks, or public', 'invalid_argument');
  if (input.public && !input.redirectUris?.length) throw new ToolError('redirect_uris: a public client needs at least one', 'invalid_argument');
  for (const uri of input.redirectUris ?? []) {
    const problem = redirectUriProblem(uri);
    if (problem) throw new ToolError(`redirect_uris: ${problem}`, 'invalid_argument');
  }
  for (const r of input.resources) {
    let url: URL;
    try {
      url = new URL(r);
    } catch {
      throw new ToolError(`resources: ${r} is not a URL`, 'invalid_argument');
    }
    // RFC 8707 §2: an absolute URI without a fragment.
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.hash)
      throw new ToolError(`resources: ${r} must be an http(s) URL without a fragment`, 'invalid_argument');
  }
}

/** The `iss` of an assertion, read before verification only to find whose keys verify it. */
function unverifiedIssuer(assertion: string): string | undefined {
  try {
    const iss = (JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown }).iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

/** A client on a person's machine: it holds no credential, so PKCE is its proof. */
export function isPublicClient(client: OAuthClientRecord): boolean {
  return !client.secretHash && !client.jwks && Boolean(client.redirectUris?.length);
}
