/**
 * Regex source for 32 bytes (a SHA-256 digest or HMAC) in canonical padded
 * base64: the last character before `=` can only carry the 2 bits left over.
 * Accepting only this form gives every value one text, so comparing text compares bytes.
 */
export const CANONICAL_BASE64_32 = '[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=';

/**
 * Constant-time comparison of two canonical base64 or base64url texts (MACs,
 * digests): every code unit is visited whatever the contents, and only the
 * length (public: 44 or 43 for SHA-256) decides early. Done on the strings themselves because turning each into a
 * Buffer for `timingSafeEqual` kept replacing Node's Buffer pool: ~2.5 µs per
 * signed request in the server's profile, against nothing here. Texts only
 * have one form when canonical; callers check that first.
 */
export function sameCanonicalBase64(given: string, expected: string): boolean {
  if (given.length !== expected.length) return false;
  let difference = 0;
  for (let i = 0; i < given.length; i++) difference |= given.charCodeAt(i) ^ expected.charCodeAt(i);
  return difference === 0;
}
