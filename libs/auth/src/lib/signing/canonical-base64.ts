import { timingSafeEqual } from 'node:crypto';

/**
 * Regex source for 32 bytes (a SHA-256 digest or HMAC) in canonical padded
 * base64: the last character before `=` can only carry the 2 bits left over.
 * Accepting only this form gives every value one text, so comparing text compares bytes.
 */
export const CANONICAL_BASE64_32 = '[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=';

/** Constant-time comparison of two canonical base64 texts (length first: timingSafeEqual throws on a mismatch). */
export function sameCanonicalBase64(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'latin1');
  const b = Buffer.from(expected, 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}
