import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  envBoolean,
  envInstant,
  envIssuerUrl,
  envList,
  issuerNames,
  legacyIssuers,
  parseEnvironment,
  readConnectionUrl,
  readSecretSettings,
  type Environment,
  type LegacyIssuer,
} from '@crossauth/auth';
import { z } from 'zod';

/** Every variable session-buddy reads, with its default. `.env.example` mirrors this. */
export const sessionBuddyEnvSchema = z.object({
  SESSION_BUDDY_HOST: z.string().min(1).default('127.0.0.1'),
  SESSION_BUDDY_PORT: z.coerce.number().int().min(0).max(65535).default(8678),
  SESSION_BUDDY_PUBLIC_URL: z.url().optional(),
  SESSION_BUDDY_AUTH_MODE: z.enum(['required', 'optional', 'disabled']).optional(),
  // Default: the authorization server's issuer and the Python predecessors' `mahavishnu`.
  SESSION_BUDDY_ALLOWED_ISSUERS: envList.optional(),
  SESSION_BUDDY_AUDIENCE: z.string().min(1).default('session-buddy'),
  SESSION_BUDDY_AUTHORIZATION_SERVER: envIssuerUrl.default('http://127.0.0.1:8679'),
  // Earlier names of the authorization server's issuer, accepted in tokens until SESSION_BUDDY_LEGACY_ISSUERS_UNTIL; `none` for none.
  SESSION_BUDDY_LEGACY_ISSUERS: envList.default(['orchestrator']),
  SESSION_BUDDY_LEGACY_ISSUERS_UNTIL: envInstant.optional(),
  SESSION_BUDDY_ACCEPT_LEGACY_TOKENS: envBoolean.default(false),
  SESSION_BUDDY_JWKS_URL: z.url().optional(),
  // Default: SESSION_BUDDY_AUTHORIZATION_SERVER.
  SESSION_BUDDY_JWKS_ISSUER: z.string().min(1).optional(),
  SESSION_BUDDY_JWKS_REFRESH_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  SESSION_BUDDY_JWKS_MIN_REFETCH_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
  // Outside issuers (an organisation's IdP) whose tokens are honoured; see docs/trust-file.md.
  SESSION_BUDDY_TRUST_FILE: z.string().min(1).optional(),
  // Development only: trust-file metadata and JWKS over plain HTTP to a loopback address.
  SESSION_BUDDY_TRUST_ALLOW_LOOPBACK_HTTP: envBoolean.default(false),
  SESSION_BUDDY_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  SESSION_BUDDY_VERIFICATION_CACHE: envBoolean.default(true),
  SESSION_BUDDY_DATA_DIR: z.string().min(1).optional(),
  SESSION_BUDDY_BODY_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .max(50 * 1024 * 1024)
    .default(1024 * 1024),
  SESSION_BUDDY_STATELESS: envBoolean.default(false),
  SESSION_BUDDY_MCP_2026: envBoolean.default(true),
  SESSION_BUDDY_SESSION_IDLE_SECONDS: z.coerce.number().int().min(1).default(1800),
  SESSION_BUDDY_REQUIRE_SIGNED_REQUESTS: z.string().default('off'),
  SESSION_BUDDY_SIGNATURE_MAX_AGE_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  SESSION_BUDDY_AUTH_FAILURE_LIMIT: z.coerce.number().int().min(0).max(100_000).default(30),
  SESSION_BUDDY_AUTH_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  SESSION_BUDDY_AUTH_FAILURE_BLOCK_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  SESSION_BUDDY_DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  SESSION_BUDDY_DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  SESSION_BUDDY_PROJECT_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must be a project name')
    .default('session-buddy'),
  XDG_DATA_HOME: z.string().optional(),
});

/** session-buddy's validated configuration. */
export interface SessionBuddyConfig {
  readonly host: string;
  readonly port: number;
  /** Base URL clients reach; the canonical MCP resource is `<publicUrl>/mcp`. */
  readonly publicUrl: string;
  readonly auth: {
    readonly mode?: 'required' | 'optional' | 'disabled';
    readonly secret?: string;
    readonly previousSecrets: string[];
    /** This deployment's issuers, the JWKS's included: their tokens are ours, and no trust file may claim them. */
    readonly allowedIssuers: string[];
    /** Earlier names of the authorization server's issuer, accepted until their end. */
    readonly legacyIssuers: LegacyIssuer[];
    readonly audience: string;
    readonly authorizationServer: string;
    readonly acceptLegacyTokens: boolean;
    /** The variable behind {@link acceptLegacyTokens}, named when a legacy token is refused. */
    readonly legacyTokensSetting: string;
    readonly clockSkewSeconds: number;
    readonly verificationCache: boolean;
    /**
     * Verify one issuer's tokens with its published keys (EdDSA, ES256) instead
     * of a shared secret. With no secret set, session-buddy then holds nothing
     * that can mint a token.
     */
    readonly jwks?: { readonly url: string; readonly issuer: string; readonly refreshSeconds: number; readonly minRefetchSeconds: number };
    /** Outside issuers' trust file (re-read on SIGHUP), and whether its keys may come over loopback HTTP. */
    readonly trust?: { readonly file: string; readonly allowLoopbackHttp: boolean };
    /** `off`, `all`, or the issuers whose callers must sign requests (RFC 9421). */
    readonly requireSignedRequests: 'off' | 'all' | string[];
    readonly signatureMaxAgeSeconds: number;
    /** Auth failures per client address per window before 429; 0 disables. */
    readonly failureThrottle: { limit: number; windowSeconds: number; blockSeconds: number } | false;
  };
  /** This service's name as a recipient of signed project messages. */
  readonly projectId: string;
  readonly dataDir: string;
  /** PostgreSQL for every repository when set; SQLite in {@link dataDir} otherwise. */
  readonly database?: { readonly url: string; readonly poolSize: number; readonly statementTimeoutMs: number };
  /** Redis for replay protection, the failure throttle, revocation fan-out and MCP sessions, when set. */
  readonly redisUrl?: string;
  readonly bodyLimit: number;
  readonly stateless: boolean;
  /** Whether `/mcp` also serves MCP 2026-07-28 requests (the 2025 era is always served). */
  readonly modernProtocol: boolean;
  readonly sessionIdleSeconds: number;
}

/** Validates the environment once, at start-up. Errors name variables, never values. */
export function loadSessionBuddyConfig(env: Environment): SessionBuddyConfig {
  const e = parseEnvironment(sessionBuddyEnvSchema, env);
  const { secret, previousSecrets } = readSecretSettings(env, 'SESSION_BUDDY_SECRET', 'SESSION_BUDDY_PREVIOUS_SECRETS');
  const dataHome = e.XDG_DATA_HOME ?? join(homedir(), '.local', 'share');
  // Connection URLs carry passwords: read like secrets (NAME or NAME_FILE), checked without echoing them.
  const databaseUrl = readConnectionUrl(env, 'SESSION_BUDDY_DATABASE_URL', ['postgres:', 'postgresql:']);
  const redisUrl = readConnectionUrl(env, 'SESSION_BUDDY_REDIS_URL', ['redis:', 'rediss:']);
  const authorizationServer = e.SESSION_BUDDY_AUTHORIZATION_SERVER;
  const legacy = legacyIssuers(e.SESSION_BUDDY_LEGACY_ISSUERS, e.SESSION_BUDDY_LEGACY_ISSUERS_UNTIL, authorizationServer);
  const signedBy = e.SESSION_BUDDY_REQUIRE_SIGNED_REQUESTS;
  const jwks = e.SESSION_BUDDY_JWKS_URL
    ? {
        url: e.SESSION_BUDDY_JWKS_URL,
        issuer: issuerNames([e.SESSION_BUDDY_JWKS_ISSUER ?? authorizationServer], legacy)[0] as string,
        refreshSeconds: e.SESSION_BUDDY_JWKS_REFRESH_SECONDS,
        minRefetchSeconds: e.SESSION_BUDDY_JWKS_MIN_REFETCH_SECONDS,
      }
    : undefined;
  return {
    host: e.SESSION_BUDDY_HOST,
    port: e.SESSION_BUDDY_PORT,
    publicUrl: (e.SESSION_BUDDY_PUBLIC_URL ?? `http://${e.SESSION_BUDDY_HOST}:${e.SESSION_BUDDY_PORT}`).replace(/\/$/, ''),
    auth: {
      mode: e.SESSION_BUDDY_AUTH_MODE,
      secret,
      previousSecrets,
      // The JWKS's issuer is trusted too: its keys are configured for nothing else.
      allowedIssuers: [
        ...new Set([...issuerNames(e.SESSION_BUDDY_ALLOWED_ISSUERS ?? [authorizationServer, 'mahavishnu'], legacy), ...(jwks ? [jwks.issuer] : [])]),
      ],
      legacyIssuers: legacy,
      audience: e.SESSION_BUDDY_AUDIENCE,
      authorizationServer,
      acceptLegacyTokens: e.SESSION_BUDDY_ACCEPT_LEGACY_TOKENS,
      legacyTokensSetting: 'SESSION_BUDDY_ACCEPT_LEGACY_TOKENS',
      clockSkewSeconds: e.SESSION_BUDDY_CLOCK_SKEW_SECONDS,
      verificationCache: e.SESSION_BUDDY_VERIFICATION_CACHE,
      jwks,
      trust: e.SESSION_BUDDY_TRUST_FILE ? { file: e.SESSION_BUDDY_TRUST_FILE, allowLoopbackHttp: e.SESSION_BUDDY_TRUST_ALLOW_LOOPBACK_HTTP } : undefined,
      requireSignedRequests:
        signedBy === 'off' || signedBy === 'all'
          ? signedBy
          : issuerNames(
              signedBy
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
              legacy,
            ),
      signatureMaxAgeSeconds: e.SESSION_BUDDY_SIGNATURE_MAX_AGE_SECONDS,
      failureThrottle:
        e.SESSION_BUDDY_AUTH_FAILURE_LIMIT === 0
          ? false
          : {
              limit: e.SESSION_BUDDY_AUTH_FAILURE_LIMIT,
              windowSeconds: e.SESSION_BUDDY_AUTH_FAILURE_WINDOW_SECONDS,
              blockSeconds: e.SESSION_BUDDY_AUTH_FAILURE_BLOCK_SECONDS,
            },
    },
    projectId: e.SESSION_BUDDY_PROJECT_ID,
    dataDir: e.SESSION_BUDDY_DATA_DIR ?? join(dataHome, 'crossauth', 'session-buddy'),
    database: databaseUrl
      ? { url: databaseUrl, poolSize: e.SESSION_BUDDY_DATABASE_POOL_SIZE, statementTimeoutMs: e.SESSION_BUDDY_DATABASE_STATEMENT_TIMEOUT_MS }
      : undefined,
    redisUrl,
    bodyLimit: e.SESSION_BUDDY_BODY_LIMIT,
    stateless: e.SESSION_BUDDY_STATELESS,
    modernProtocol: e.SESSION_BUDDY_MCP_2026,
    sessionIdleSeconds: e.SESSION_BUDDY_SESSION_IDLE_SECONDS,
  };
}
