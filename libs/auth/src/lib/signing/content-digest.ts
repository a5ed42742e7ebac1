import { createHash, timingSafeEqual } from 'node:crypto';
import { SignatureError } from './signature.errors';

/** `Content-Digest` (RFC 9530) for a body: `sha-256=:<base64>:`. */
export function contentDigest(body: Uint8Array | string): string {
  return `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
}

/**
 * Checks a `Content-Digest` header against the bytes actually received. The
 * header must carry exactly one `sha-256` member; other algorithms are ignored.
 */
export function verifyContentDigest(header: string | undefined, body: Uint8Array | string): void {
  if (!header) throw new SignatureError('digest_mismatch', 'Content-Digest header is missing');
  const members = header.split(',').map((m) => m.trim());
  const sha = members.filter((m) => m.startsWith('sha-256='));
  if (sha.length !== 1) throw new SignatureError('digest_mismatch', 'Content-Digest needs exactly one sha-256 member');
  const m = /^sha-256=:([A-Za-z0-9+/]{43}=):$/.exec(sha[0] as string);
  if (!m) throw new SignatureError('digest_mismatch', 'Content-Digest sha-256 value is malformed');
  const expected = createHash('sha256').update(body).digest();
  const given = Buffer.from(m[1] as string, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new SignatureError('digest_mismatch', 'body does not match Content-Digest');
  }
}
