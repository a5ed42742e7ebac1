/** A base64 character. */
export const BASE64_CLASS = /[A-Za-z0-9+/]/;
/** The character before `=` in 32 bytes of base64: it carries the last 4 bits, and its 2 spare bits must be zero. */
export const BASE64_LAST_OF_32_CLASS = /[AEIMQUYcgkosw048]/;
/**
 * Regex source for 32 bytes (a SHA-256 digest or HMAC) in canonical padded
 * base64. Accepting only this form gives every value one text, so comparing
 * text compares bytes.
 */
export const CANONICAL_BASE64_32 = `${BASE64_CLASS.source}{42}${BASE64_LAST_OF_32_CLASS.source}=`;

/**
 * Constant-time comparison of a canonical base64 or base64url text (MACs,
 * digests) with `given[from..to)`: every code unit is visited whatever the
 * contents, and only the length (public: 44 or 43 for SHA-256) decides early.
 * The range lets a caller compare the value inside a header without cutting
 * it out. Done on the strings themselves because turning each into a Buffer
 * for `timingSafeEqual` kept replacing Node's Buffer pool: ~2.5 µs per signed
 * request in the server's profile, against nothing here. Texts only have one
 * form when canonical; callers check that first.
 */
export function sameCanonicalBase64(given: string, expected: string, from = 0, to = given.length): boolean {
  if (to - from !== expected.length || from < 0 || to > given.length) return false;
  let difference = 0;
  for (let i = 0; i < expected.length; i++) difference |= given.charCodeAt(from + i) ^ expected.charCodeAt(i);
  return difference === 0;
}
