import { sha256 } from '../crypto/sha256';
import { CANONICAL_BASE64_32, sameCanonicalBase64 } from './canonical-base64';
import { SignatureError } from './signature.errors';

const SHA256_PREFIX = 'sha-256=:';
const SINGLE_SHA256 = new RegExp(`^${SHA256_PREFIX}(${CANONICAL_BASE64_32}):$`);

/** `Content-Digest` (RFC 9530) for a body: `sha-256=:<base64>:`. */
export function contentDigest(body: Uint8Array | string): string {
  return `${SHA256_PREFIX}${sha256(body, 'base64')}:`;
}

/**
 * Checks a `Content-Digest` header against the bytes actually received. The
 * header must carry exactly one `sha-256` member; other algorithms are ignored.
 */
export function verifyContentDigest(header: string | undefined, body: Uint8Array | string): void {
  if (!header) throw new SignatureError('digest_mismatch', 'Content-Digest header is missing');
  const expected = sha256(body, 'base64');
  // The usual header is the one member we send: compared in place, as text,
  // with no parsing (a match is the canonical form by construction). Anything
  // else, a mismatch included, goes through the checks below, which say what is wrong.
  if (header.startsWith(SHA256_PREFIX) && sameCanonicalBase64(header, expected, SHA256_PREFIX.length, header.length - 1) && header.endsWith(':')) return;
  let value = SINGLE_SHA256.exec(header)?.[1];
  if (value === undefined) {
    const sha = header
      .split(',')
      .map((m) => m.trim())
      .filter((m) => m.startsWith('sha-256='));
    if (sha.length !== 1) throw new SignatureError('digest_mismatch', 'Content-Digest needs exactly one sha-256 member');
    value = SINGLE_SHA256.exec(sha[0] as string)?.[1];
    if (value === undefined) throw new SignatureError('digest_mismatch', 'Content-Digest sha-256 value is malformed');
  }
  if (!sameCanonicalBase64(value, expected)) {
    throw new SignatureError('digest_mismatch', 'body does not match Content-Digest');
  }
}
