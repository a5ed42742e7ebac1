import { createHmac, hkdfSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

const CLIENT_SECRET_INFO = 'crossauth/oauth-client-secret/v1';

/** A new OAuth client secret: 256 random bits, base64url (43 characters). Shown once, never stored. */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The key client secrets are hashed under, derived from a service secret with
 * HKDF-SHA256 and a label of its own (so it can neither mint tokens nor sign
 * requests). A keyed hash is right for 256-bit random secrets: a slow password
 * hash would only cost every token request, and the key keeps a copy of the
 * table useless to whoever lacks it.
 */
export function deriveClientSecretKey(secret: string | Buffer | KeyObject): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), CLIENT_SECRET_INFO, 32));
}

/** base64url(HMAC-SHA256(key, secret)): what is stored for a client secret. */
export function hashClientSecret(secret: string, key: Buffer): string {
  return createHmac('sha256', key).update(secret, 'utf8').digest('base64url');
}

/** Constant-time: whether `presented` is the secret behind `storedHash`. */
export function clientSecretMatches(presented: string, storedHash: string, key: Buffer): boolean {
  const expected = Buffer.from(storedHash, 'base64url');
  const actual = createHmac('sha256', key).update(presented, 'utf8').digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
