import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  AuthConfigError,
  envBoolean,
  envInstant,
  envIssuerUrl,
  envList,
  issuerNames,
  legacyIssuers,
  parseEnvironment,
  readConnectionUrl,
  readSecretSettings,
  readSecretVariable,
  trustUrlProblem,
  type Environment,
  type LegacyIssuer,
} from '@crossauth/auth';
import { z } from 'zod';
import type { UserRole } from '../accounts/user.repository';

/** Every variable the orchestrator reads, with its default. `.env.example` mirrors this. */
export const orchestratorEnvSchema = z.object({
  ORCHESTRATOR_HOST: z.string().min(1).default('127.0.0.1'),
  ORCHESTRATOR_PORT: z.coerce.number().int().min(0).max(65535).default(8679),
  ORCHESTRATOR_PUBLIC_URL: z.url().optional(),
  ORCHESTRATOR_AUTH_MODE: z.enum(['required', 'optional', 'disabled']).optional(),
  // The RFC 8414 issuer identifier, written as `iss`; default the public URL.
  ORCHESTRATOR_ISSUER: envIssuerUrl.optional(),
  // Who the orchestrator is when it calls session-buddy: the subject of its own tokens, the actor in exchanged ones, the sender of envelopes.
  ORCHESTRATOR_CALLER_ID: z
    .string()
    .regex(/^[A-Za-z0-9][\w.@:+-]{0,127}$/, 'must be a plain identifier (letters, digits, . _ @ : + -), not a URL')
    .default('orchestrator'),
  ORCHESTRATOR_AUDIENCE: z.string().min(1).default('orchestrator'),
  ORCHESTRATOR_ALLOWED_ISSUERS: envList.optional(),
  // Earlier names of this issuer, still accepted in tokens until ORCHESTRATOR_LEGACY_ISSUERS_UNTIL; `none` for none.
  ORCHESTRATOR_LEGACY_ISSUERS: envList.default(['orchestrator']),
  ORCHESTRATOR_LEGACY_ISSUERS_UNTIL: envInstant.optional(),
  ORCHESTRATOR_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  ORCHESTRATOR_SESSION_BUDDY_URL: z.url().default('http://127.0.0.1:8678/mcp'),
  ORCHESTRATOR_SESSION_BUDDY_AUDIENCE: z.string().min(1).default('session-buddy'),
  ORCHESTRATOR_SESSION_BUDDY_PROTOCOL: z.enum(['auto', '2026-07-28', '2025-11-25']).default('auto'),
  ORCHESTRATOR_DOWNSTREAM_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
  ORCHESTRATOR_SESSION_BUDDY_CLIENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'must be a client id')
    .optional(),
  ORCHESTRATOR_SESSION_BUDDY_CLIENT_KEY_FILE: z.string().min(1).optional(),
  ORCHESTRATOR_SESSION_BUDDY_AUTHORIZATION_SERVER: z.url().optional(),
  ORCHESTRATOR_DOWNSTREAM_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  ORCHESTRATOR_BODY_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .max(50 * 1024 * 1024)
    .default(1024 * 1024),
  ORCHESTRATOR_STATELESS: envBoolean.default(false),
  ORCHESTRATOR_MCP_2026: envBoolean.default(true),
  ORCHESTRATOR_SIGN_REQUESTS: envBoolean.optional(),
  // Ed25519 and EdDSA: the same Ed25519 keys, under the RFC 9864 name or the RFC 8037 one.
  ORCHESTRATOR_SIGNING_ALG: z.enum(['HS256', 'EdDSA', 'Ed25519', 'ES256']).default('HS256'),
  ORCHESTRATOR_SIGNING_KEYS_FILE: z.string().min(1).optional(),
  ORCHESTRATOR_SIGNING_KEY_FILE: z.string().min(1).optional(),
  ORCHESTRATOR_SIGNING_KEY_PUBLISH_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
  ORCHESTRATOR_DATA_DIR: z.string().min(1).optional(),
  ORCHESTRATOR_DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(5),
  ORCHESTRATOR_DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  ORCHESTRATOR_OAUTH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(5).max(86_400).default(300),
  ORCHESTRATOR_REVOCATION_RETRY_MAX_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  // A person's refresh token: unused this long, it lapses; a grant ends after its maximum however often it is used.
  ORCHESTRATOR_REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(31_536_000).default(2_592_000),
  // With no account at start, a one-time link that creates the first (admin) account from this machine.
  ORCHESTRATOR_FIRST_ACCOUNT_LINK: envBoolean.default(true),
  // People sign in through an upstream OpenID provider instead of local accounts (docs/upstream-login.md).
  ORCHESTRATOR_LOGIN_OIDC_ISSUER: z.url().optional(),
  ORCHESTRATOR_LOGIN_OIDC_CLIENT_ID: z.string().min(1).max(256).optional(),
  // Default: <ORCHESTRATOR_PUBLIC_URL>/oauth/callback.
  ORCHESTRATOR_LOGIN_OIDC_REDIRECT: z.url().optional(),
  ORCHESTRATOR_LOGIN_OIDC_SCOPES: z
    .string()
    .regex(/^openid( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'must start with openid, space-separated')
    .default('openid email profile'),
  ORCHESTRATOR_LOGIN_OIDC_SUBJECT_CLAIM: z.enum(['sub', 'email']).default('sub'),
  ORCHESTRATOR_LOGIN_OIDC_ROLES_CLAIM: z
    .string()
    .regex(/^[A-Za-z0-9_:./-]{1,128}$/, 'must be a claim name')
    .default('groups'),
  // group=role pairs: the highest role any of the person's groups maps to; no mapped group, no access.
  ORCHESTRATOR_LOGIN_OIDC_ROLE_MAP: z.string().optional(),
  // Development only: the provider reached over http:// on a loopback address.
  ORCHESTRATOR_LOGIN_OIDC_ALLOW_LOOPBACK_HTTP: envBoolean.default(false),
  // Client ID Metadata Documents: an https client_id is fetched as the client's registration.
  ORCHESTRATOR_CLIENT_METADATA_DOCUMENTS: envBoolean.default(true),
  // Development only: documents may be served from loopback addresses (still HTTPS).
  ORCHESTRATOR_CLIENT_METADATA_ALLOW_LOOPBACK: envBoolean.default(false),
  // Dynamic Client Registration (RFC 7591) and its policy.
  ORCHESTRATOR_REGISTRATION: envBoolean.default(true),
  ORCHESTRATOR_REGISTRATION_CONFIDENTIAL: envBoolean.default(false),
  ORCHESTRATOR_REGISTRATION_REDIRECTS: z
    .string()
    .default('loopback,private-use,https')
    .transform((v) =>
      v
        .split(',')
        .map((f) => f.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(['loopback', 'private-use', 'https'])).min(1)),
  ORCHESTRATOR_REGISTRATION_PER_HOUR: z.coerce.number().int().min(1).max(10_000).default(10),
  ORCHESTRATOR_REGISTRATION_UNUSED_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  // Failed authentications (client credentials, sign-in passwords) per address and per account before 429; 0 turns it off.
  ORCHESTRATOR_AUTH_FAILURE_LIMIT: z.coerce.number().int().min(0).max(100_000).default(30),
  ORCHESTRATOR_AUTH_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  ORCHESTRATOR_AUTH_FAILURE_BLOCK_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  ORCHESTRATOR_GRANT_MAX_SECONDS: z.coerce.number().int().min(60).max(31_536_000).default(7_776_000),
  XDG_DATA_HOME: z.string().optional(),
});

/** The orchestrator's validated configuration. */
export interface OrchestratorConfig {
  readonly host: string;
  readonly port: number;
  readonly publicUrl: string;
  readonly auth: {
    readonly mode?: 'required' | 'optional' | 'disabled';
    readonly secret?: string;
    readonly previousSecrets: string[];
    /** The issuer identifier: `iss` of every token minted here, and the metadata's `issuer`. */
    readonly issuer: string;
    /** The orchestrator as a caller of session-buddy, never a URL. */
    readonly callerId: string;
    readonly audience: string;
    readonly allowedIssuers: string[];
    readonly legacyIssuers: LegacyIssuer[];
    readonly clockSkewSeconds: number;
  };
  readonly sessionBuddy: {
    readonly url: string;
    readonly audience: string;
    readonly tokenTtlSeconds: number;
    readonly retries: number;
    /** `auto`: 2026-07-28 when session-buddy's `server/discover` offers it, else the 2025 era. */
    readonly protocol: 'auto' | '2026-07-28' | '2025-11-25';
    /**
     * When set, downstream tokens come from the authorization server that
     * session-buddy names (discovery), by token exchange authenticated as this
     * client (secret, or private_key_jwt with the key file), instead of being
     * exchanged in process.
     */
    readonly client?: { readonly id: string; readonly secret?: string; readonly keyFile?: string; readonly authorizationServer: string };
    /** Sign every request to session-buddy (RFC 9421, HKDF-derived key). Default on with HS256, off with public-key signing (session-buddy then holds no shared key to check with). */
    readonly signRequests: boolean;
  };
  /**
   * How tokens are signed: HS256 with the shared secret, or an asymmetric key
   * set (EdDSA, ES256) kept in `keysFile` and published as a JWKS.
   */
  readonly signing: {
    /** The key family: Ed25519 keys are `EdDSA` here whatever name their tokens carry. */
    readonly alg: 'HS256' | 'EdDSA' | 'ES256';
    /** The `alg` an Ed25519 key's tokens and JWKS entry carry. */
    readonly ed25519Name: 'EdDSA' | 'Ed25519';
    readonly keysFile: string;
    /** An operator's private key (PEM or JWK): the first key, or, when the set lacks it, the next one. */
    readonly keyFile?: string;
    /** A new key is in the JWKS this long before it signs. */
    readonly publishSeconds: number;
    /** A replaced key stays in the JWKS this long: the longest life of a token it signed. */
    readonly retainSeconds: number;
  };
  readonly bodyLimit: number;
  readonly stateless: boolean;
  /** Whether `/mcp` also serves MCP 2026-07-28 requests (the 2025 era is always served). */
  readonly modernProtocol: boolean;
  /** Redis for the replay store and the failure throttle, shared by every instance, when set. */
  readonly redisUrl?: string;
  /** SQLite (registered OAuth clients) lives here unless {@link database} is set. */
  readonly dataDir: string;
  /** Failed authentications before `429`, per address and per account; false: no throttle. */
  readonly failureThrottle: { readonly limit: number; readonly windowSeconds: number; readonly blockSeconds: number } | false;
  /** Sign-in through an upstream OpenID provider; local accounts (passwords) when absent. */
  readonly upstreamLogin?: UpstreamLoginConfig;
  /** Whether a start with no account makes the one-time first-account link. */
  readonly firstAccountLink: boolean;
  /** Dynamic Client Registration (RFC 7591): whether it is open, and what it registers. */
  readonly registration: {
    readonly enabled: boolean;
    /** Whether a client may register with a secret; public clients only otherwise. */
    readonly confidential: boolean;
    readonly redirectForms: readonly ('loopback' | 'private-use' | 'https')[];
    readonly perHour: number;
    readonly unusedDays: number;
  };
  /** Client ID Metadata Documents: accepted at all, and (development) from loopback addresses. */
  readonly clientMetadata: { readonly enabled: boolean; readonly allowLoopback: boolean };
  /** PostgreSQL for the orchestrator's store, when set. */
  readonly database?: { readonly url: string; readonly poolSize: number; readonly statementTimeoutMs: number };
  /** The OAuth authorization server: lifetime of the tokens its token endpoint grants. */
  readonly oauth: {
    readonly tokenTtlSeconds: number;
    /** The longest wait between two attempts to deliver a revocation to session-buddy. */
    readonly revocationRetryMaxSeconds: number;
    /** How long a person's refresh token lasts unused; each refresh issues a new one. */
    readonly refreshTokenTtlSeconds: number;
    /** How long a grant (a refresh-token family) lasts from the sign-in that made it. */
    readonly grantMaxSeconds: number;
  };
}

/** An upstream OpenID provider people sign in through. */
export interface UpstreamLoginConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly redirectUri: string;
  readonly scopes: string;
  readonly subjectClaim: 'sub' | 'email';
  readonly rolesClaim: string;
  /** Group (or role) values of the provider, and the crossauth role each gives. */
  readonly roleMap: ReadonlyMap<string, UserRole>;
  readonly allowLoopbackHttp: boolean;
}

const ROLE_ORDER: readonly UserRole[] = ['viewer', 'developer', 'admin'];

function upstreamLoginOf(env: Environment, e: z.infer<typeof orchestratorEnvSchema>, publicUrl: string): UpstreamLoginConfig | undefined {
  const issuer = e.ORCHESTRATOR_LOGIN_OIDC_ISSUER;
  const clientSecret = readSecretVariable(env, 'ORCHESTRATOR_LOGIN_OIDC_CLIENT_SECRET');
  if (!issuer) {
    if (e.ORCHESTRATOR_LOGIN_OIDC_CLIENT_ID || clientSecret || e.ORCHESTRATOR_LOGIN_OIDC_ROLE_MAP)
      throw new AuthConfigError('ORCHESTRATOR_LOGIN_OIDC_CLIENT_ID, _CLIENT_SECRET and _ROLE_MAP need ORCHESTRATOR_LOGIN_OIDC_ISSUER');
    return undefined;
  }
  const problem = trustUrlProblem(issuer, e.ORCHESTRATOR_LOGIN_OIDC_ALLOW_LOOPBACK_HTTP, 'ORCHESTRATOR_LOGIN_OIDC_ALLOW_LOOPBACK_HTTP');
  if (problem) throw new AuthConfigError(`ORCHESTRATOR_LOGIN_OIDC_ISSUER: ${problem}`);
  if (!e.ORCHESTRATOR_LOGIN_OIDC_CLIENT_ID) throw new AuthConfigError('ORCHESTRATOR_LOGIN_OIDC_CLIENT_ID is required with ORCHESTRATOR_LOGIN_OIDC_ISSUER');
  const roleMap = new Map<string, UserRole>();
  for (const pair of (e.ORCHESTRATOR_LOGIN_OIDC_ROLE_MAP ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const at = pair.lastIndexOf('=');
    const group = pair.slice(0, at).trim();
    const role = pair.slice(at + 1).trim() as UserRole;
    if (at <= 0 || !group || !ROLE_ORDER.includes(role))
      throw new AuthConfigError(`ORCHESTRATOR_LOGIN_OIDC_ROLE_MAP: each entry is group=role with role one of ${ROLE_ORDER.join(', ')}`);
    roleMap.set(group, role);
  }
  const redirectUri = e.ORCHESTRATOR_LOGIN_OIDC_REDIRECT ?? `${publicUrl}/oauth/callback`;
  if (new URL(redirectUri).pathname !== '/oauth/callback')
    throw new AuthConfigError("ORCHESTRATOR_LOGIN_OIDC_REDIRECT: must be this server's /oauth/callback as the provider reaches it");
  if (roleMap.size === 0)
    throw new AuthConfigError('ORCHESTRATOR_LOGIN_OIDC_ROLE_MAP is required with ORCHESTRATOR_LOGIN_OIDC_ISSUER: without it nobody gets a role');
  return {
    issuer,
    clientId: e.ORCHESTRATOR_LOGIN_OIDC_CLIENT_ID,
    ...(clientSecret ? { clientSecret } : {}),
    redirectUri,
    scopes: e.ORCHESTRATOR_LOGIN_OIDC_SCOPES,
    subjectClaim: e.ORCHESTRATOR_LOGIN_OIDC_SUBJECT_CLAIM,
    rolesClaim: e.ORCHESTRATOR_LOGIN_OIDC_ROLES_CLAIM,
    roleMap,
    allowLoopbackHttp: e.ORCHESTRATOR_LOGIN_OIDC_ALLOW_LOOPBACK_HTTP,
  };
}

/** The highest role any of `groups` maps to, or undefined when none does. */
export function roleForGroups(groups: readonly string[], roleMap: ReadonlyMap<string, UserRole>): UserRole | undefined {
  let best = -1;
  for (const g of groups) best = Math.max(best, ROLE_ORDER.indexOf(roleMap.get(g) ?? ('' as UserRole)));
  return best < 0 ? undefined : ROLE_ORDER[best];
}

/** Validates the environment once, at start-up. Errors name variables, never values. */
export function loadOrchestratorConfig(env: Environment): OrchestratorConfig {
  const e = parseEnvironment(orchestratorEnvSchema, env);
  const { secret, previousSecrets } = readSecretSettings(env, 'ORCHESTRATOR_AUTH_SECRET', 'ORCHESTRATOR_PREVIOUS_SECRETS');
  const databaseUrl = readConnectionUrl(env, 'ORCHESTRATOR_DATABASE_URL', ['postgres:', 'postgresql:']);
  const clientSecret = readSecretVariable(env, 'ORCHESTRATOR_SESSION_BUDDY_CLIENT_SECRET');
  const clientId = e.ORCHESTRATOR_SESSION_BUDDY_CLIENT_ID;
  if (clientId && Boolean(clientSecret) === Boolean(e.ORCHESTRATOR_SESSION_BUDDY_CLIENT_KEY_FILE)) {
    throw new AuthConfigError(
      'ORCHESTRATOR_SESSION_BUDDY_CLIENT_ID needs exactly one of ORCHESTRATOR_SESSION_BUDDY_CLIENT_SECRET (or _FILE) and ORCHESTRATOR_SESSION_BUDDY_CLIENT_KEY_FILE',
    );
  }
  if (e.ORCHESTRATOR_SIGNING_KEY_FILE && e.ORCHESTRATOR_SIGNING_ALG === 'HS256') {
    throw new AuthConfigError('ORCHESTRATOR_SIGNING_KEY_FILE needs ORCHESTRATOR_SIGNING_ALG=Ed25519, EdDSA or ES256');
  }
  if (!clientId && (clientSecret || e.ORCHESTRATOR_SESSION_BUDDY_CLIENT_KEY_FILE)) {
    throw new AuthConfigError(
      'ORCHESTRATOR_SESSION_BUDDY_CLIENT_SECRET and ORCHESTRATOR_SESSION_BUDDY_CLIENT_KEY_FILE need ORCHESTRATOR_SESSION_BUDDY_CLIENT_ID',
    );
  }
  const publicUrl = (e.ORCHESTRATOR_PUBLIC_URL ?? `http://${e.ORCHESTRATOR_HOST}:${e.ORCHESTRATOR_PORT}`).replace(/\/$/, '');
  const issuer = e.ORCHESTRATOR_ISSUER ?? publicUrl;
  const legacy = legacyIssuers(e.ORCHESTRATOR_LEGACY_ISSUERS, e.ORCHESTRATOR_LEGACY_ISSUERS_UNTIL, issuer);
  const dataDir = e.ORCHESTRATOR_DATA_DIR ?? join(e.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'crossauth', 'orchestrator');
  return {
    host: e.ORCHESTRATOR_HOST,
    port: e.ORCHESTRATOR_PORT,
    publicUrl,
    auth: {
      mode: e.ORCHESTRATOR_AUTH_MODE,
      secret,
      previousSecrets,
      issuer,
      callerId: e.ORCHESTRATOR_CALLER_ID,
      audience: e.ORCHESTRATOR_AUDIENCE,
      allowedIssuers: issuerNames(e.ORCHESTRATOR_ALLOWED_ISSUERS ?? [issuer], legacy),
      legacyIssuers: legacy,
      clockSkewSeconds: e.ORCHESTRATOR_CLOCK_SKEW_SECONDS,
    },
    sessionBuddy: {
      url: e.ORCHESTRATOR_SESSION_BUDDY_URL,
      audience: e.ORCHESTRATOR_SESSION_BUDDY_AUDIENCE,
      tokenTtlSeconds: e.ORCHESTRATOR_DOWNSTREAM_TOKEN_TTL_SECONDS,
      retries: e.ORCHESTRATOR_DOWNSTREAM_RETRIES,
      protocol: e.ORCHESTRATOR_SESSION_BUDDY_PROTOCOL,
      signRequests: e.ORCHESTRATOR_SIGN_REQUESTS ?? e.ORCHESTRATOR_SIGNING_ALG === 'HS256',
      client: clientId
        ? {
            id: clientId,
            secret: clientSecret,
            keyFile: e.ORCHESTRATOR_SESSION_BUDDY_CLIENT_KEY_FILE,
            // Credentials go only to this issuer, whatever session-buddy's metadata names.
            authorizationServer: (e.ORCHESTRATOR_SESSION_BUDDY_AUTHORIZATION_SERVER ?? issuer).replace(/\/$/, ''),
          }
        : undefined,
    },
    signing: {
      alg: e.ORCHESTRATOR_SIGNING_ALG === 'Ed25519' ? 'EdDSA' : e.ORCHESTRATOR_SIGNING_ALG,
      ed25519Name: e.ORCHESTRATOR_SIGNING_ALG === 'Ed25519' ? 'Ed25519' : 'EdDSA',
      keysFile: e.ORCHESTRATOR_SIGNING_KEYS_FILE ?? join(dataDir, 'signing-keys.json'),
      keyFile: e.ORCHESTRATOR_SIGNING_KEY_FILE,
      publishSeconds: e.ORCHESTRATOR_SIGNING_KEY_PUBLISH_SECONDS,
      retainSeconds: Math.max(e.ORCHESTRATOR_OAUTH_TOKEN_TTL_SECONDS, e.ORCHESTRATOR_DOWNSTREAM_TOKEN_TTL_SECONDS) + e.ORCHESTRATOR_CLOCK_SKEW_SECONDS,
    },
    bodyLimit: e.ORCHESTRATOR_BODY_LIMIT,
    stateless: e.ORCHESTRATOR_STATELESS,
    modernProtocol: e.ORCHESTRATOR_MCP_2026,
    // May carry a password: read like a secret (NAME or NAME_FILE), never echoed.
    redisUrl: readConnectionUrl(env, 'ORCHESTRATOR_REDIS_URL', ['redis:', 'rediss:']),
    dataDir,
    firstAccountLink: e.ORCHESTRATOR_FIRST_ACCOUNT_LINK && !e.ORCHESTRATOR_LOGIN_OIDC_ISSUER,
    upstreamLogin: upstreamLoginOf(env, e, publicUrl),
    failureThrottle:
      e.ORCHESTRATOR_AUTH_FAILURE_LIMIT === 0
        ? false
        : {
            limit: e.ORCHESTRATOR_AUTH_FAILURE_LIMIT,
            windowSeconds: e.ORCHESTRATOR_AUTH_FAILURE_WINDOW_SECONDS,
            blockSeconds: e.ORCHESTRATOR_AUTH_FAILURE_BLOCK_SECONDS,
          },
    registration: {
      enabled: e.ORCHESTRATOR_REGISTRATION,
      confidential: e.ORCHESTRATOR_REGISTRATION_CONFIDENTIAL,
      redirectForms: e.ORCHESTRATOR_REGISTRATION_REDIRECTS,
      perHour: e.ORCHESTRATOR_REGISTRATION_PER_HOUR,
      unusedDays: e.ORCHESTRATOR_REGISTRATION_UNUSED_DAYS,
    },
    clientMetadata: { enabled: e.ORCHESTRATOR_CLIENT_METADATA_DOCUMENTS, allowLoopback: e.ORCHESTRATOR_CLIENT_METADATA_ALLOW_LOOPBACK },
    database: databaseUrl
      ? { url: databaseUrl, poolSize: e.ORCHESTRATOR_DATABASE_POOL_SIZE, statementTimeoutMs: e.ORCHESTRATOR_DATABASE_STATEMENT_TIMEOUT_MS }
      : undefined,
    oauth: {
      tokenTtlSeconds: e.ORCHESTRATOR_OAUTH_TOKEN_TTL_SECONDS,
      revocationRetryMaxSeconds: e.ORCHESTRATOR_REVOCATION_RETRY_MAX_SECONDS,
      refreshTokenTtlSeconds: e.ORCHESTRATOR_REFRESH_TOKEN_TTL_SECONDS,
      grantMaxSeconds: e.ORCHESTRATOR_GRANT_MAX_SECONDS,
    },
  };
}
