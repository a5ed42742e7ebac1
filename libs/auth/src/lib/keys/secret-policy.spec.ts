import { randomSecret } from '../../testing';
import { AuthConfigError } from '../auth.errors';
import { assertAcceptableSecret } from './secret-policy';
import { KeyRing, deriveKeyId, deriveRequestSigningKey } from './key-ring';

describe('assertAcceptableSecret', () => {
  const refused: Array<[string, string, RegExp]> = [
    ['too short', 'Zx8Qw3Lp0Rt6Yu2', /at least 32 characters/],
    ['a "changeme" placeholder', 'please-changeme-before-production-deploys-xyz', /placeholder/],
    ['one starting with "secret"', 'secret-that-is-definitely-long-enough-2025', /placeholder/],
    ['a development secret copied from docs', 'development-enhanced-jwt-secret-but-longer', /development/],
    ['a demo secret from a README', 'test-secret-key-for-demo-purposes-min-32-chars', /placeholder/],
    ['one repeated character', 'a'.repeat(48), /distinct characters/],
    ['a short repeated pattern', 'abab'.repeat(12), /distinct characters/],
    ['padded with whitespace', ` ${randomSecret()}`, /whitespace/],
  ];
  it.each(refused)('refuses %s, naming the variable and never the value or its length', (_n, value, rule) => {
    let caught: unknown;
    try {
      assertAcceptableSecret('SESSION_BUDDY_SECRET', value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AuthConfigError);
    const message = (caught as Error).message;
    expect(message).toMatch(/^SESSION_BUDDY_SECRET /);
    expect(message).toMatch(rule);
    expect(message).not.toContain(value.trim());
    expect(message).not.toContain(String(value.length));
  });

  it('accepts a generated secret', () => {
    expect(() => assertAcceptableSecret('X', randomSecret())).not.toThrow();
  });
});

describe('key ids', () => {
  it('pins the kid derivation: base64url(HMAC-SHA256(secret, "crossauth/kid/v1"))[0..12)', () => {
    // Vector computed independently with Python's hmac module.
    expect(deriveKeyId('0123456789abcdefghijklmnopqrstuvwxyz')).toBe('u4FTVZA-9b7dnpCy');
  });

  it('differs between secrets and reveals neither', () => {
    const a = randomSecret();
    const b = randomSecret();
    expect(deriveKeyId(a)).not.toBe(deriveKeyId(b));
    expect(deriveKeyId(a)).toHaveLength(16);
    expect(a).not.toContain(deriveKeyId(a));
  });

  it('derives a request-signing key distinct from the JWT key', () => {
    const s = randomSecret();
    expect(deriveRequestSigningKey(s).equals(Buffer.from(s))).toBe(false);
    expect(deriveRequestSigningKey(s)).toHaveLength(32);
  });

  it('keeps the current key first and signs with it; previous keys only verify', () => {
    const current = randomSecret();
    const previous = randomSecret();
    const ring = new KeyRing(current, [previous, current]);
    expect(ring.current.kid).toBe(deriveKeyId(current));
    expect(ring.keyIds).toEqual([deriveKeyId(current), deriveKeyId(previous)]);
    expect(ring.find(deriveKeyId(previous))?.current).toBe(false);
    expect(ring.find('nope')).toBeUndefined();
  });
});
