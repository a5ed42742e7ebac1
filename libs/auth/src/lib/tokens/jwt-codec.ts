import { AuthError } from '../auth.errors';
import { hmacSha256 } from '../crypto/sha256';
import { sameCanonicalBase64 } from '../signing/canonical-base64';
import type { KeyRing, ManagedKey } from '../keys/key-ring';
import { verifyJwsInput, type AsymmetricAlgorithm, type PublicSigningKey } from '../keys/asymmetric-key';
import type { PublicKeySource } from '../keys/public-key-source';

/** A decoded JOSE header. Only what verification needs is typed. */
export interface JwtHeader {
  readonly alg?: unknown;
  readonly typ?: unknown;
  readonly kid?: unknown;
  readonly crit?: unknown;
  readonly [name: string]: unknown;
}

/** Raw JWT claims as decoded; validated by {@link validateClaims}. */
export type JwtClaims = Record<string, unknown>;

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const HEADER_CACHE_LIMIT = 64;
const headerCache = new Map<string, JwtHeader>();

/** Strict base64url decoding: no padding, no foreign characters, canonical form only. */
export function decodeBase64UrlStrict(segment: string): Buffer | undefined {
  if (!BASE64URL.test(segment) || segment.length % 4 === 1) return undefined;
  const bytes = Buffer.from(segment, 'base64url');
  // Non-canonical trailing bits would let two strings decode to the same bytes.
  if (bytes.toString('base64url') !== segment) return undefined;
  return bytes;
}

function parseJsonObject(segment: string, what: string): Record<string, unknown> {
  const bytes = decodeBase64UrlStrict(segment);
  if (!bytes) throw new AuthError('malformed', `${what} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new AuthError('malformed', `${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AuthError('malformed', `${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function parseHeader(segment: string): JwtHeader {
  // Every token from one issuer carries the same header bytes; parsing them once
  // keeps JSON work off the hot path. The cache is bounded and holds no secrets.
  const cached = headerCache.get(segment);
  if (cached) return cached;
  const header = parseJsonObject(segment, 'header') as JwtHeader;
  if (headerCache.size >= HEADER_CACHE_LIMIT) headerCache.clear();
  headerCache.set(segment, header);
  return header;
}

/** Splits a compact JWS into its three segments or throws `malformed`. */
export function splitCompact(token: string): [string, string, string] {
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (first <= 0 || second < 0 || token.indexOf('.', second + 1) !== -1) {
    throw new AuthError('malformed', 'not a three-part compact JWS');
  }
  return [token.slice(0, first), token.slice(first + 1, second), token.slice(second + 1)];
}

// The segment has passed the strict decode, so it is the one canonical text of its
// bytes: comparing texts compares MACs.
function macMatches(key: ManagedKey, signingInput: string, signatureSegment: string): boolean {
  return sameCanonicalBase64(signatureSegment, hmacSha256(key.key, signingInput, 'base64url'));
}

// RFC 7515 §4.1.9: typ is a media type, so its name is case-insensitive and the
// "application/" prefix may be present or left out.
const ACCEPTED_TYPES = /^(application\/)?(jwt|at\+jwt)$/i;

function isAcceptedType(typ: unknown): boolean {
  return typeof typ === 'string' && ACCEPTED_TYPES.test(typ);
}

/** Whether the header says "JWT access token" (RFC 9068 §4: `at+jwt`, case-insensitive, optional `application/`). */
export function isAccessTokenTyp(typ: unknown): boolean {
  return typeof typ === 'string' && /^(application\/)?at\+jwt$/i.test(typ);
}

/** The keys a verifier holds: a shared-secret ring (HS256), public keys (EdDSA, ES256), or both. */
export interface VerificationKeys {
  readonly keyRing?: KeyRing;
  readonly publicKeys?: PublicKeySource;
}

/** What signature verification established. Claims are not validated yet. */
export interface VerifiedSignature {
  readonly header: JwtHeader;
  readonly claims: JwtClaims;
  /** The shared-secret key that matched (HS256), or the public key (EdDSA, ES256). */
  readonly key: ManagedKey | PublicSigningKey;
  readonly symmetric: boolean;
}

/**
 * Headers that would let a token name its own key (RFC 8725 §3.10): the only
 * keys are the configured ring, the issuer's published JWKS, or a client's registered keys.
 */
export const KEY_CARRYING_HEADERS = ['jku', 'jwk', 'x5u', 'x5c'] as const;
// Thumbprints are 43 characters; other issuers' ids get some room, but only in a
// plain alphabet, so a kid can never smuggle a path, URL or query anywhere.
const PLAIN_KID = /^[A-Za-z0-9_.-]{1,128}$/;

/** Whether `kid` is a key id we look up or publish at all. */
export function isPlainKeyId(kid: unknown): kid is string {
  return typeof kid === 'string' && PLAIN_KID.test(kid);
}

function commonHeaderChecks(header: JwtHeader): void {
  if (header.crit !== undefined) throw new AuthError('malformed', 'crit header is not supported');
  if (header.typ !== undefined && !isAcceptedType(header.typ)) {
    throw new AuthError('malformed', 'typ header is not JWT or at+jwt');
  }
}

/**
 * Verifies the JOSE layer of a token with the algorithm the *key* dictates
 * (RFC 8725 §3.1): HS256 only against the shared-secret ring, EdDSA and ES256
 * only against public keys of that type; `none`, RS256 and the rest are
 * refused, as is any header that carries or points at a key. An unknown `kid`
 * is reported to the key source (which may refetch, rate-limited) and refused.
 */
export function verifyJwsSignature(token: string, keys: VerificationKeys): VerifiedSignature {
  const [headerSegment, payloadSegment, signatureSegment] = splitCompact(token);
  const header = parseHeader(headerSegment);
  if (header.alg === 'HS256') {
    if (!keys.keyRing) {
      throw new AuthError('bad_signature', "HS256 is not accepted here: this server verifies with its issuers' public keys and holds no shared secret");
    }
    const key = verifyHs256Mac(token, [headerSegment, payloadSegment, signatureSegment], header, keys.keyRing);
    return { header, claims: parseJsonObject(payloadSegment, 'payload'), key, symmetric: true };
  }
  // RFC 9864: `Ed25519` is the fully-specified name of what `EdDSA` means for an Ed25519 key.
  const family = header.alg === 'Ed25519' ? 'EdDSA' : header.alg;
  if (family !== 'EdDSA' && family !== 'ES256') {
    throw new AuthError(
      'bad_signature',
      `algorithm ${JSON.stringify(header.alg)} is not allowed; only ${keys.publicKeys ? 'Ed25519 (or EdDSA), ES256 and ' : ''}HS256 are`,
    );
  }
  const source = keys.publicKeys;
  if (!source) throw new AuthError('bad_signature', `algorithm ${header.alg} is not accepted here: this server holds no public keys`);
  const key = verifyPublicKeySignature(token, headerSegment, payloadSegment, signatureSegment, header, source, family);
  return { header, claims: parseJsonObject(payloadSegment, 'payload'), key, symmetric: false };
}

/**
 * Verifies a token of an outside issuer with that issuer's keys only, and only
 * with the algorithms it is trusted for: HS256 and every other symmetric or
 * unlisted algorithm is refused before any key is looked up. The claims were
 * already decoded by {@link unverifiedClaims} (to find the issuer) from the
 * payload this signature covers, so they are not decoded again.
 */
export function verifyOutsideSignature(
  token: string,
  source: PublicKeySource,
  algorithms: readonly AsymmetricAlgorithm[],
): { readonly header: JwtHeader; readonly key: PublicSigningKey } {
  const [headerSegment, payloadSegment, signatureSegment] = splitCompact(token);
  const header = parseHeader(headerSegment);
  const family = header.alg === 'Ed25519' ? 'EdDSA' : header.alg;
  if (typeof family !== 'string' || !(algorithms as readonly string[]).includes(family))
    throw new AuthError('bad_signature', `algorithm ${JSON.stringify(header.alg)} is not allowed for this issuer; it may use ${algorithms.join(', ')}`);
  const key = verifyPublicKeySignature(token, headerSegment, payloadSegment, signatureSegment, header, source, family as AsymmetricAlgorithm);
  return { header, key };
}

/**
 * A token's claims read before its signature is checked: only to choose whose
 * keys verify it, and to be validated once the signature holds. Undefined when
 * the token is not a compact JWS with a JSON payload.
 */
export function unverifiedClaims(token: string): JwtClaims | undefined {
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (first <= 0 || second < 0) return undefined;
  try {
    return parseJsonObject(token.slice(first + 1, second), 'payload');
  } catch {
    return undefined;
  }
}

function verifyPublicKeySignature(
  token: string,
  headerSegment: string,
  payloadSegment: string,
  signatureSegment: string,
  header: JwtHeader,
  source: PublicKeySource,
  family: AsymmetricAlgorithm,
): PublicSigningKey {
  commonHeaderChecks(header);
  for (const name of KEY_CARRYING_HEADERS) {
    if (header[name] !== undefined) throw new AuthError('bad_signature', `the ${name} header is not accepted: keys come from the issuer's published JWKS`);
  }
  if (typeof header.kid !== 'string') throw new AuthError('malformed', 'kid is required for public-key tokens');
  if (!isPlainKeyId(header.kid)) throw new AuthError('malformed', 'kid is not a plain key id');
  const key = source.find(header.kid);
  if (!key) {
    source.unknownKey?.(header.kid);
    throw new AuthError('unknown_key', `token kid ${header.kid} is not among the issuer's published keys`);
  }
  if (key.alg !== family) throw new AuthError('bad_signature', `key ${key.kid} verifies ${key.alg}, not ${String(header.alg)}`);
  const signature = decodeBase64UrlStrict(signatureSegment);
  if (!signature?.length) throw new AuthError('malformed', 'signature is not base64url');
  const input = Buffer.from(token.slice(0, headerSegment.length + 1 + payloadSegment.length), 'ascii');
  if (!verifyJwsInput(key.alg, key.publicKey, input, signature)) throw new AuthError('bad_signature', `${key.alg} signature does not verify`);
  return key;
}

/**
 * Verifies the JOSE layer of an HS256 token: structure, algorithm pinning
 * (RFC 8725 §3.1: `none`, RS256 and everything else are refused), `kid`
 * lookup and a constant-time MAC check. Returns the decoded claims and the key
 * that matched. Claims are not validated here.
 */
export function verifyHs256Signature(token: string, keys: KeyRing): { header: JwtHeader; claims: JwtClaims; key: ManagedKey } {
  const segments = splitCompact(token);
  const header = parseHeader(segments[0]);
  if (header.alg !== 'HS256') {
    throw new AuthError('bad_signature', `algorithm ${JSON.stringify(header.alg)} is not allowed; only HS256 is`);
  }
  return { header, claims: parseJsonObject(segments[1], 'payload'), key: verifyHs256Mac(token, segments, header, keys) };
}

/** Header checks, `kid` lookup and the constant-time MAC check of a token already split and found to be HS256. */
function verifyHs256Mac(
  token: string,
  [headerSegment, payloadSegment, signatureSegment]: [string, string, string],
  header: JwtHeader,
  keys: KeyRing,
): ManagedKey {
  commonHeaderChecks(header);
  if (!decodeBase64UrlStrict(signatureSegment)?.length) throw new AuthError('malformed', 'signature is not base64url');

  const signingInput = token.slice(0, headerSegment.length + 1 + payloadSegment.length);
  let matched: ManagedKey | undefined;
  if (header.kid !== undefined) {
    if (typeof header.kid !== 'string') throw new AuthError('malformed', 'kid is not a string');
    const key = keys.find(header.kid);
    if (!key) {
      throw new AuthError(
        'unknown_key',
        `token kid ${header.kid} matches none of this server's keys (${keys.keyIds.join(', ')}): the issuer and this server do not share a secret`,
      );
    }
    if (macMatches(key, signingInput, signatureSegment)) matched = key;
  } else {
    // Tokens from the Python predecessors carry no kid: try each accepted key.
    matched = keys.all.find((key) => macMatches(key, signingInput, signatureSegment));
  }
  if (!matched) throw new AuthError('bad_signature', 'HMAC does not match');
  return matched;
}
