import { clientSecretMatches, deriveClientSecretKey, generateClientSecret, hashClientSecret } from './client-secret';

describe('OAuth client secrets', () => {
  const key = deriveClientSecretKey('0123456789abcdefghijklmnopqrstuvwxyz');

  it('derives the hashing key and hashes as documented (pinned vector)', () => {
    // HKDF-SHA256(ikm = the service secret, salt = empty, info = "crossauth/oauth-client-secret/v1", 32 bytes)
    expect(key.toString('base64url')).toBe(KEY_VECTOR);
    expect(hashClientSecret('a-client-secret', key)).toBe(HASH_VECTOR);
  });

  it('generates 256-bit secrets, different each time', () => {
    const a = generateClientSecret();
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(a).not.toBe(generateClientSecret());
  });

  it('matches only the secret behind a hash, and only under the same key', () => {
    const secret = generateClientSecret();
    const hash = hashClientSecret(secret, key);
    expect(clientSecretMatches(secret, hash, key)).toBe(true);
    expect(clientSecretMatches(`${secret}x`, hash, key)).toBe(false);
    expect(clientSecretMatches(secret.slice(0, -1), hash, key)).toBe(false);
    expect(clientSecretMatches('', hash, key)).toBe(false);
    expect(clientSecretMatches(secret, hash, deriveClientSecretKey('another-service-secret-0123456789abcdef'))).toBe(false);
    expect(clientSecretMatches(secret, 'not-a-hash', key)).toBe(false);
  });
});

// Computed independently with Python's hmac (RFC 5869 by hand).
const KEY_VECTOR = '8FKqTS4jwOMbdO60pNcWGgPQqRptNPjrHGnZeAB1Ypg';
const HASH_VECTOR = 'OvUgKiP7O9QVHZqZVzRiw0XLU9ok0GwenmBUX3wgTzw';
