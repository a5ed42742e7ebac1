import { createPublicKey, randomUUID, type JsonWebKey } from 'node:crypto';
import { algorithmOfJwk as algorithmOf, signJwsInput, verifyJwsInput, type PrivateSigningKey } from '../keys/asymmetric-key';
import { KEY_CARRYING_HEADERS, decodeBase64UrlStrict, splitCompact } from '../tokens/jwt-codec';

/** Why a client assertion (RFC 7523) was refused. Client-safe. */
export class ClientAssertionError extends Error {
  override readonly name = 'ClientAssertionError';
}

/** The asymmetric algorithms a client may sign assertions with; the key decides which. */
export const CLIENT_ASSERTION_ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'] as const;
type Algorithm = (typeof CLIENT_ASSERTION_ALGORITHMS)[number];

/** A client's registered public keys, as a JWK Set. */
export interface ClientJwks {
  readonly keys: readonly JsonWebKey[];
}

// The registered keys are the only keys, and no extension may change how the assertion is read.
const FORBIDDEN_HEADERS = [...KEY_CARRYING_HEADERS, 'crit'];

/**
 * Checks a JWK Set given at registration: public keys only, of a supported
 * type, with unique key ids. Throws naming the problem.
 */
export function assertPublicJwks(value: unknown): ClientJwks {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > 10) throw new ClientAssertionError('jwks must be {"keys": [...]} with 1-10 keys');
  const kids = new Set<string>();
  for (const key of keys as JsonWebKey[]) {
    if (typeof key !== 'object' || key === null) throw new ClientAssertionError('each key must be a JWK object');
    if ('d' in key || 'p' in key || 'k' in key) throw new ClientAssertionError('jwks must hold public keys only (a private or symmetric key was given)');
    const alg = algorithmOf(key);
    if (!alg) throw new ClientAssertionError(`unsupported key type (supported: EC P-256, Ed25519, RSA)`);
    if (key.alg !== undefined && key.alg !== alg) throw new ClientAssertionError(`key alg ${String(key.alg)} does not match its type (${alg})`);
    if (typeof key.kid === 'string') {
      if (kids.has(key.kid)) throw new ClientAssertionError(`duplicate kid ${key.kid}`);
      kids.add(key.kid);
    }
    try {
      createPublicKey({ key, format: 'jwk' });
    } catch {
      throw new ClientAssertionError('a key could not be read as a public JWK');
    }
  }
  return { keys: keys as JsonWebKey[] };
}

/** What verifying an assertion needs. Times in seconds. */
export interface ClientAssertionPolicy {
  readonly clientId: string;
  readonly jwks: ClientJwks;
  /** Any of these in `aud`: the token endpoint URL or the issuer identifier (RFC 7523 §3). */
  readonly audiences: readonly string[];
  readonly nowSeconds: number;
  readonly clockSkewSeconds: number;
  /** An assertion whose `exp` lies further ahead than this is refused (bounds how long its jti must be remembered). */
  readonly maxLifetimeSeconds: number;
}

/**
 * Verifies a `private_key_jwt` client assertion (RFC 7523 §3, RFC 7521):
 * signed by one of the client's registered keys with that key's algorithm
 * (no HMAC, no `none`, no key from the header), `iss` = `sub` = the client,
 * our `aud`, `exp` present and near, a `jti`. Returns `jti` and `exp` for the
 * caller's single-use check. Plain node:crypto.
 */
export function verifyClientAssertion(assertion: string, policy: ClientAssertionPolicy): { jti: string; exp: number } {
  if (assertion.length > 8192) throw new ClientAssertionError('assertion is too large');
  let parts: [string, string, string];
  try {
    parts = splitCompact(assertion);
  } catch {
    throw new ClientAssertionError('assertion is not a compact JWS');
  }
  const [h, p, s] = parts;
  const header = json(h, 'header');
  const alg = header['alg'];
  if (typeof alg !== 'string' || !(CLIENT_ASSERTION_ALGORITHMS as readonly string[]).includes(alg))
    throw new ClientAssertionError('alg must be ES256, EdDSA, RS256 or PS256');
  for (const name of FORBIDDEN_HEADERS) if (name in header) throw new ClientAssertionError(`the ${name} header is not accepted: keys come from registration`);
  const kid = header['kid'];
  if (kid !== undefined && typeof kid !== 'string') throw new ClientAssertionError('kid is not a string');
  const candidates = policy.jwks.keys.filter((k) => algorithmOf(k) === alg && (kid === undefined || k.kid === kid));
  if (candidates.length === 0) throw new ClientAssertionError(kid === undefined ? `no registered key for ${alg}` : 'kid names no registered key for this alg');
  const signature = decodeBase64UrlStrict(s);
  if (!signature?.length) throw new ClientAssertionError('signature is not base64url');
  const input = Buffer.from(`${h}.${p}`, 'ascii');
  if (!candidates.some((jwk) => verifyJwsInput(alg as Algorithm, createPublicKey({ key: jwk, format: 'jwk' }), input, signature))) {
    throw new ClientAssertionError("signature does not verify with the client's registered keys");
  }

  const claims = json(p, 'payload');
  if (claims['iss'] !== policy.clientId || claims['sub'] !== policy.clientId) throw new ClientAssertionError('iss and sub must both be the client id');
  const aud = claims['aud'];
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  if (!audiences.some((a) => typeof a === 'string' && policy.audiences.includes(a)))
    throw new ClientAssertionError('aud must be this token endpoint or issuer');
  const exp = claims['exp'];
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new ClientAssertionError('exp is required');
  if (policy.nowSeconds >= exp + policy.clockSkewSeconds) throw new ClientAssertionError('assertion has expired');
  if (exp - policy.nowSeconds > policy.maxLifetimeSeconds) throw new ClientAssertionError(`exp is more than ${policy.maxLifetimeSeconds}s ahead`);
  const nbf = claims['nbf'];
  if (typeof nbf === 'number' && policy.nowSeconds < nbf - policy.clockSkewSeconds) throw new ClientAssertionError('assertion is not valid yet');
  const iat = claims['iat'];
  if (typeof iat === 'number' && iat > policy.nowSeconds + policy.clockSkewSeconds) throw new ClientAssertionError('iat is in the future');
  const jti = claims['jti'];
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw new ClientAssertionError('jti is required');
  return { jti, exp };
}

function json(segment: string, what: string): Record<string, unknown> {
  const bytes = decodeBase64UrlStrict(segment);
  let value: unknown;
  try {
    value = bytes ? JSON.parse(bytes.toString('utf8')) : undefined;
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ClientAssertionError(`${what} is not a base64url JSON object`);
  return value as Record<string, unknown>;
}

/**
 * A `private_key_jwt` client assertion (RFC 7523 §3) signed with an EdDSA or
 * ES256 key: `iss` = `sub` = the client, `aud` = the authorization server's
 * issuer, a fresh `jti`, `lifetimeSeconds` of validity. No `kid`: the server
 * finds the key among the client's registered ones by algorithm.
 */
export function createClientAssertion(
  clientId: string,
  audience: string,
  key: PrivateSigningKey,
  nowSeconds = Math.floor(Date.now() / 1000),
  lifetimeSeconds = 60,
): string {
  const header = Buffer.from(JSON.stringify({ alg: key.alg, typ: 'JWT' })).toString('base64url');
  const claims = { iss: clientId, sub: clientId, aud: audience, iat: nowSeconds, exp: nowSeconds + lifetimeSeconds, jti: randomUUID() };
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${signJwsInput(input, key).toString('base64url')}`;
}
