import { randomFillSync, type KeyObject } from 'node:crypto';
import { hmacSha256 } from '../crypto/sha256';
import { CANONICAL_BASE64_32, sameCanonicalBase64 } from './canonical-base64';
import { contentDigest, verifyContentDigest } from './content-digest';
import type { NonceStore } from './nonce-store';
import { SignatureError } from './signature.errors';
import { parseSignature, parseSignatureInput, serializeSignatureParams, type ParamValue } from './structured-fields';

/** Components every crossauth request signature must cover (RFC 9421 §2). */
export const REQUIRED_COMPONENTS = ['@method', '@authority', '@path', 'content-digest'] as const;
const ALLOWED_PARAMS = new Set(['created', 'nonce', 'keyid', 'alg']);
const MIN_NONCE_CHARS = 22; // 128 bits of base64url

// Nonces are cut from a pool of CSPRNG bytes refilled 256 nonces at a time
// (what node does for randomUUID): one RAND_bytes call per request showed in
// the orchestrator's profile. The pool is overwritten on refill, never reused.
const NONCE_BYTES = 16;
const noncePool = Buffer.alloc(NONCE_BYTES * 256);
let noncePoolOffset = noncePool.length;

function freshNonce(): string {
  if (noncePoolOffset >= noncePool.length) {
    randomFillSync(noncePool);
    noncePoolOffset = 0;
  }
  const nonce = noncePool.toString('base64url', noncePoolOffset, noncePoolOffset + NONCE_BYTES);
  noncePoolOffset += NONCE_BYTES;
  return nonce;
}

/** What a request signature covers. */
export interface SignableRequest {
  readonly method: string;
  /** Host and port as sent (`Host` header / URL host), lower-cased. */
  readonly authority: string;
  /** The path without the query. */
  readonly path: string;
  readonly body: Uint8Array | string;
}

/**
 * The RFC 9421 §2.5 signature base: one `"name": value` line per component,
 * then `"@signature-params"`, joined by LF with no trailing newline.
 */
export function signatureBase(components: ReadonlyArray<readonly [string, string]>, signatureParams: string): string {
  let base = '';
  for (const [name, value] of components) base += `"${name}": ${value}\n`;
  return `${base}"@signature-params": ${signatureParams}`;
}

/**
 * The signature base of a crossauth request. The usual component list (what
 * signRequest emits and every canonical Signature-Input carries) is one
 * template; another order goes through {@link signatureBase}. Same text either
 * way (the spec checks); the template saves a record, an array of pairs and
 * the concatenation loop on every signed request.
 */
function requestBase(request: SignableRequest, digest: string, components: readonly string[], signatureParams: string): string {
  const method = request.method.toUpperCase();
  const authority = request.authority.toLowerCase();
  if (components === REQUIRED_COMPONENTS) {
    return `"@method": ${method}\n"@authority": ${authority}\n"@path": ${request.path}\n"content-digest": ${digest}\n"@signature-params": ${signatureParams}`;
  }
  const values: Record<string, string> = { '@method': method, '@authority': authority, '@path': request.path, 'content-digest': digest };
  return signatureBase(
    components.map((name) => [name, values[name] as string] as const),
    signatureParams,
  );
}

/** Signs a request: returns the `Content-Digest`, `Signature-Input` and `Signature` headers to send. */
export function signRequest(
  request: SignableRequest,
  key: { readonly kid: string; readonly key: KeyObject },
  options: { nowSeconds?: number; nonce?: string; label?: string } = {},
): { 'content-digest': string; 'signature-input': string; signature: string } {
  const digest = contentDigest(request.body);
  const params: Array<[string, ParamValue]> = [
    ['created', options.nowSeconds ?? Math.floor(Date.now() / 1000)],
    ['nonce', options.nonce ?? freshNonce()],
    ['keyid', key.kid],
    ['alg', 'hmac-sha256'],
  ];
  const serialized = serializeSignatureParams(REQUIRED_COMPONENTS, params);
  const base = requestBase(request, digest, REQUIRED_COMPONENTS, serialized);
  const label = options.label ?? 'sig1';
  return {
    'content-digest': digest,
    'signature-input': `${label}=${serialized}`,
    signature: `${label}=:${hmacSha256(key.key, base, 'base64')}:`,
  };
}

/** How to verify request signatures. */
export interface VerifyRequestOptions {
  /** The request-signing key for a key id, if known. */
  readonly keyFor: (kid: string) => KeyObject | undefined;
  readonly nonces: NonceStore;
  /** Accepted distance of `created` from now, both ways. Default 300 s. */
  readonly maxAgeSeconds?: number;
  readonly nowMs?: number;
}

type HeaderValue = string | string[] | undefined;

function single(headers: Record<string, HeaderValue>, name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) throw new SignatureError('signature_invalid', `more than one ${name} header`);
  return value;
}

/** A parsed `Signature-Input` member, with its `@signature-params` serialisation. */
interface SignatureInput {
  readonly label: string;
  readonly components: readonly string[];
  readonly created: number;
  readonly nonce: string;
  readonly keyid: string;
  readonly serialized: string;
}

// Exactly what signRequest emits (and docs/auth-protocol.md specifies): the four
// components in order, then created;nonce;keyid[;alg]. For such a header the
// strict parser's re-serialisation is the header's own text after `label=`, so
// it can be taken as is. No leading zeros in `created` and only unescaped
// characters in the strings keep that identity exact; anything else takes the
// general path below, which decides (the spec pins both to the same answers).
const CANONICAL_INPUT =
  /^([a-z*][a-z0-9_\-.*]*)=(\("@method" "@authority" "@path" "content-digest"\);created=(0|[1-9]\d{0,14});nonce="([A-Za-z0-9_-]{22,256})";keyid="([A-Za-z0-9._:-]{1,256})"(?:;alg="hmac-sha256")?)$/;
// A canonical HMAC-SHA256 signature: one member, 32 bytes of padded base64.
const CANONICAL_SIGNATURE = new RegExp(`^([a-z*][a-z0-9_\\-.*]*)=:(${CANONICAL_BASE64_32}):$`);

function readSignatureInput(header: string): SignatureInput {
  const fast = CANONICAL_INPUT.exec(header);
  if (fast) {
    return { label: fast[1] as string, components: REQUIRED_COMPONENTS, serialized: fast[2] as string, created: Number(fast[3]), nonce: fast[4] as string, keyid: fast[5] as string };
  }
  const input = parseSignatureInput(header);
  for (const required of REQUIRED_COMPONENTS) {
    if (!input.components.includes(required)) throw new SignatureError('signature_invalid', `signature does not cover ${required}`);
  }
  for (const component of input.components) {
    if (!(REQUIRED_COMPONENTS as readonly string[]).includes(component)) throw new SignatureError('signature_invalid', `unsupported component ${component}`);
  }
  for (const name of input.params.keys()) {
    if (!ALLOWED_PARAMS.has(name)) throw new SignatureError('signature_invalid', `unsupported parameter ${name}`);
  }
  const created = input.params.get('created');
  const nonce = input.params.get('nonce');
  const keyid = input.params.get('keyid');
  const alg = input.params.get('alg');
  if (typeof created !== 'number') throw new SignatureError('signature_invalid', 'created must be an integer');
  if (typeof nonce !== 'string' || nonce.length < MIN_NONCE_CHARS) throw new SignatureError('signature_invalid', 'nonce must be a string of at least 128 bits');
  if (typeof keyid !== 'string') throw new SignatureError('signature_invalid', 'keyid must be a string');
  if (alg !== undefined && alg !== 'hmac-sha256') throw new SignatureError('signature_invalid', 'alg must be hmac-sha256');
  return { label: input.label, components: input.components, created, nonce, keyid, serialized: serializeSignatureParams(input.components, [...input.params.entries()]) };
}

/** The signature's label and its base64 text (canonical, so it can be compared as text). */
function readSignature(header: string): { label: string; base64: string } {
  const fast = CANONICAL_SIGNATURE.exec(header);
  if (fast) return { label: fast[1] as string, base64: fast[2] as string };
  const { label, signature } = parseSignature(header);
  return { label, base64: signature.toString('base64') };
}

/**
 * Verifies an RFC 9421 request signature (HMAC-SHA256 subset, docs/auth-protocol.md).
 * Order: presence, strict parsing, covered components, freshness, key, body
 * digest, MAC (constant time), and only then the nonce, so a forger cannot
 * burn nonces. Returns the key id that signed.
 */
export function verifyRequest(request: SignableRequest & { headers: Record<string, HeaderValue> }, options: VerifyRequestOptions): { keyid: string } {
  const inputHeader = single(request.headers, 'signature-input');
  const signatureHeader = single(request.headers, 'signature');
  if (!inputHeader || !signatureHeader) throw new SignatureError('signature_missing', 'Signature and Signature-Input headers are required');
  const input = readSignatureInput(inputHeader);
  const signature = readSignature(signatureHeader);
  if (signature.label !== input.label) throw new SignatureError('signature_invalid', 'Signature and Signature-Input labels differ');

  const { created, nonce, keyid } = input;
  const nowMs = options.nowMs ?? Date.now();
  const maxAge = options.maxAgeSeconds ?? 300;
  if (Math.abs(nowMs / 1000 - created) > maxAge) throw new SignatureError('signature_expired', `created is more than ${maxAge}s from now`);

  const key = options.keyFor(keyid);
  if (!key) throw new SignatureError('unknown_key', `keyid ${keyid} is not one of ours: the services do not share a secret`);

  const digest = single(request.headers, 'content-digest');
  verifyContentDigest(digest, request.body);

  const base = requestBase(request, digest as string, input.components, input.serialized);
  if (!sameCanonicalBase64(signature.base64, hmacSha256(key, base, 'base64'))) {
    throw new SignatureError('signature_invalid', 'HMAC does not match');
  }
  const verdict = options.nonces.remember(`${keyid}:${nonce}`, (created + maxAge) * 1000, nowMs);
  if (verdict === 'replayed') throw new SignatureError('signature_replayed', 'nonce already used');
  if (verdict === 'full') throw new SignatureError('nonce_store_full', 'too many signed requests inside the replay window; retry later');
  return { keyid };
}
