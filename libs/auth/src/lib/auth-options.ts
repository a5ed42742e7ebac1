import type { FailureRule, FailureThrottleStore } from './throttle/failure-throttle.store';
import { AuthConfigError } from './auth.errors';
import { KeyRing } from './keys/key-ring';
import type { Ed25519AlgorithmName } from './keys/asymmetric-key';
import type { PublicKeySource, SigningKeySource } from './keys/public-key-source';
import { assertAcceptableSecret } from './keys/secret-policy';
import { NoRevocations, type RevocationStore } from './revocation/revocation-store';
import { MemoryNonceStore, type NonceStore } from './signing/nonce-store';
import type { LegacyIssuer } from './tokens/legacy-issuer';
import type { TrustedIssuers } from './trust/trusted-issuers';

/**
 * `required`: every protected call needs a valid token.
 * `optional`: calls without a token run as the anonymous principal (which holds no scope),
 *   but a token that is present must be valid.
 * `disabled`: no secret configured; everything runs anonymously with all scopes.
 *   Only allowed without a secret, and the app must bind to loopback.
 */
export type AuthMode = 'required' | 'optional' | 'disabled';

/** Options for {@link AuthModule}. Apps build these from their validated config. */
export interface AuthModuleOptions {
  /** Defaults to `required` when a secret is set. */
  mode?: AuthMode;
  /** The shared HS256 secret. Absent only in `disabled` mode. */
  secret?: string;
  /** Secrets still accepted for verification during a rotation. Never used to sign. */
  previousSecrets?: readonly string[];
  /**
   * Public keys to verify EdDSA/ES256 tokens with (a remote issuer's JWKS). With
   * these and no secret, the service verifies tokens but holds nothing that can mint one.
   */
  publicKeys?: PublicKeySource;
  /** An asymmetric key set to mint with instead of the secret; its public keys also verify. */
  signingKeys?: SigningKeySource;
  /**
   * Outside issuers whose access tokens this server honours, each with its own
   * keys, audiences, algorithms and scope cap (a trust file). Their tokens are
   * owned by issuer and subject together.
   */
  trustedIssuers?: TrustedIssuers;
  /** The configuration name of the secret, used in start-up errors (e.g. `SESSION_BUDDY_SECRET`). */
  secretName?: string;
  /** This service's issuer id, written as `iss` when it mints. */
  issuer: string;
  /** Issuers whose tokens this service accepts. */
  allowedIssuers: readonly string[];
  /** Earlier names of allowed issuers, accepted in tokens until each one's `until`. Default none. */
  legacyIssuers?: readonly LegacyIssuer[];
  /** Audience values that name this service (its id and its canonical MCP URL). */
  audiences: readonly string[];
  /** Default 30. */
  clockSkewSeconds?: number;
  /** Tokens longer than this are refused before parsing. Default 8192. */
  maxTokenBytes?: number;
  /** Accept tokens without `aud`/`type` (PyJWT predecessors). Default false: the MCP spec requires audience checks. */
  acceptLegacyTokens?: boolean;
  /** The setting that turns legacy tokens on (e.g. `SESSION_BUDDY_ACCEPT_LEGACY_TOKENS`), named in the refusal of one. */
  legacyTokensSetting?: string;
  /** Longest lifetime a token may claim (exp - now). Default 86,400 s. */
  maxTokenLifetimeSeconds?: number;
  /** Lifetime of tokens this service mints. Default 300 s. */
  accessTokenTtlSeconds?: number;
  /** The `alg` this service's Ed25519-signed tokens carry: `EdDSA` (RFC 8037, the default) or `Ed25519` (RFC 9864). */
  ed25519AlgorithmName?: Ed25519AlgorithmName;
  /** Bounded cache of verified tokens. Default enabled, 10,000 entries. */
  verificationCache?: { enabled?: boolean; maxEntries?: number };
  /** RFC 9728 metadata URL advertised in `WWW-Authenticate` challenges. */
  resourceMetadataUrl?: string;
  /** Revocation lookups; without one, nothing is revoked. */
  revocationStore?: RevocationStore;
  /**
   * RFC 9421 request signatures: `off` (default), `all`, or the issuers whose
   * callers must sign (e.g. `['orchestrator']`).
   */
  requireSignedRequests?: 'off' | 'all' | readonly string[];
  /** Accepted age of a signature's `created`, both ways. Default 300 s. */
  signatureMaxAgeSeconds?: number;
  /** Where seen nonces live; default in memory. */
  nonceStore?: NonceStore;
  /** Auth failures per client address before `429`; `false` turns it off. Default 30 per 60 s, blocked 60 s. */
  failureThrottle?: { limit: number; windowSeconds: number; blockSeconds: number } | false;
  /** Where failures are counted, built from the rule; default this process's memory. Give a Redis store to count across instances. */
  failureThrottleStore?: (rule: FailureRule) => FailureThrottleStore;
  /**
   * Opens an AsyncLocalStorage context per HTTP request so any service can read
   * the caller through {@link AuthContextService}. Default false: on Node 20
   * AsyncLocalStorage turns on promise hooks process-wide, a measurable cost on
   * every request. Handlers get the principal explicitly either way.
   */
  requestContext?: boolean;
}

/** Options after defaults and start-up checks. */
export interface ResolvedAuthOptions {
  readonly mode: AuthMode;
  /** Replaced in place by {@link AuthKeysService.rotate}; read it at use, never cache it. */
  keyRing: KeyRing | undefined;
  /** Verifies EdDSA/ES256 tokens: the signing key set's public keys, or a remote JWKS. */
  readonly publicKeys: PublicKeySource | undefined;
  /** Mints with this key set when set; with the key ring otherwise. */
  readonly signingKeys: SigningKeySource | undefined;
  readonly trustedIssuers: TrustedIssuers | undefined;
  readonly issuer: string;
  readonly allowedIssuers: readonly string[];
  readonly legacyIssuers: readonly LegacyIssuer[];
  readonly audiences: readonly string[];
  readonly clockSkewSeconds: number;
  readonly maxTokenBytes: number;
  readonly acceptLegacyTokens: boolean;
  readonly legacyTokensSetting?: string;
  readonly accessTokenTtlSeconds: number;
  readonly ed25519AlgorithmName: Ed25519AlgorithmName;
  readonly maxTokenLifetimeSeconds: number;
  readonly cacheEnabled: boolean;
  readonly cacheMaxEntries: number;
  readonly resourceMetadataUrl: string | undefined;
  readonly revocationStore: RevocationStore;
  readonly requireSignedRequests: 'off' | 'all' | readonly string[];
  readonly signatureMaxAgeSeconds: number;
  readonly nonceStore: NonceStore;
  readonly failureThrottle: { readonly limit: number; readonly windowSeconds: number; readonly blockSeconds: number } | false;
  readonly failureThrottleStore: ((rule: FailureRule) => FailureThrottleStore) | undefined;
  readonly requestContext: boolean;
}

/**
 * Applies defaults and refuses unsafe combinations. Throws {@link AuthConfigError}
 * whose message names the setting and the rule, never a secret.
 */
export function resolveAuthOptions(options: AuthModuleOptions): ResolvedAuthOptions {
  const name = options.secretName ?? 'auth secret';
  if (options.publicKeys && options.signingKeys) throw new AuthConfigError('give public keys (to verify another issuer) or signing keys (to issue), not both');
  const publicKeys = options.signingKeys ?? options.publicKeys;
  const hasKeys = Boolean(options.secret || publicKeys || options.trustedIssuers);
  const mode: AuthMode = options.mode ?? (hasKeys ? 'required' : 'disabled');
  if (mode === 'disabled' && hasKeys) {
    throw new AuthConfigError(`auth mode "disabled" is only allowed when ${name} is not set and no public keys or trusted issuers are configured`);
  }
  if (mode !== 'disabled' && !hasKeys) {
    throw new AuthConfigError(`${name} is required when auth mode is "${mode}"`);
  }
  if (options.secret) assertAcceptableSecret(name, options.secret);
  (options.previousSecrets ?? []).forEach((s, i) => assertAcceptableSecret(`${name} (previous #${i + 1})`, s));
  if (options.allowedIssuers.length === 0) throw new AuthConfigError('allowed issuers must not be empty');
  if (options.audiences.length === 0) throw new AuthConfigError('audiences must not be empty');
  for (const legacy of options.legacyIssuers ?? []) {
    if (!Number.isFinite(legacy.until.getTime())) throw new AuthConfigError(`legacy issuer ${legacy.name} needs a valid end date`);
    if (options.allowedIssuers.includes(legacy.name))
      throw new AuthConfigError(`issuer ${legacy.name} is both allowed and a legacy name of ${legacy.issuer}; list it once`);
  }
  if (options.requireSignedRequests && options.requireSignedRequests !== 'off' && !options.secret) {
    throw new AuthConfigError(`signed requests need ${name}: the signing key is derived from it`);
  }
  const positive = (value: number | undefined, fallback: number, what: string): number => {
    const v = value ?? fallback;
    if (!Number.isInteger(v) || v < 0) throw new AuthConfigError(`${what} must be a non-negative integer`);
    return v;
  };
  return {
    mode,
    keyRing: options.secret ? new KeyRing(options.secret, options.previousSecrets ?? []) : undefined,
    publicKeys,
    signingKeys: options.signingKeys,
    trustedIssuers: options.trustedIssuers,
    issuer: options.issuer,
    allowedIssuers: [...options.allowedIssuers],
    legacyIssuers: [...(options.legacyIssuers ?? [])],
    audiences: [...options.audiences],
    clockSkewSeconds: positive(options.clockSkewSeconds, 30, 'clock skew'),
    maxTokenBytes: positive(options.maxTokenBytes, 8192, 'max token bytes'),
    acceptLegacyTokens: options.acceptLegacyTokens ?? false,
    legacyTokensSetting: options.legacyTokensSetting,
    accessTokenTtlSeconds: positive(options.accessTokenTtlSeconds, 300, 'access token TTL'),
    ed25519AlgorithmName: options.ed25519AlgorithmName ?? 'EdDSA',
    maxTokenLifetimeSeconds: positive(options.maxTokenLifetimeSeconds, 86_400, 'max token lifetime'),
    cacheEnabled: options.verificationCache?.enabled ?? true,
    cacheMaxEntries: positive(options.verificationCache?.maxEntries, 10_000, 'verification cache size'),
    resourceMetadataUrl: options.resourceMetadataUrl,
    revocationStore: options.revocationStore ?? new NoRevocations(),
    requireSignedRequests: options.requireSignedRequests ?? 'off',
    signatureMaxAgeSeconds: positive(options.signatureMaxAgeSeconds, 300, 'signature max age'),
    nonceStore: options.nonceStore ?? new MemoryNonceStore(),
    failureThrottle: options.failureThrottle === false ? false : (options.failureThrottle ?? { limit: 30, windowSeconds: 60, blockSeconds: 60 }),
    failureThrottleStore: options.failureThrottleStore,
    requestContext: options.requestContext ?? false,
  };
}

/** Ids of every key the service verifies with: shared-secret fingerprints, then public key ids. */
export function verificationKeyIds(options: Pick<ResolvedAuthOptions, 'keyRing' | 'publicKeys'>): string[] {
  return [...(options.keyRing?.keyIds ?? []), ...(options.publicKeys?.keyIds ?? [])];
}

/** The id of the key this service signs tokens with, if it can sign at all. */
export function signingKeyId(options: Pick<ResolvedAuthOptions, 'keyRing' | 'signingKeys'>): string | null {
  return options.signingKeys?.current.kid ?? options.keyRing?.current.kid ?? null;
}
