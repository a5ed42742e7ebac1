import { randomSecret } from '../../testing';
import { KeyRing } from '../keys/key-ring';
import { openSealedValue, sealValue } from './sealed-value';

describe('sealed values (AES-256-GCM under a purpose-derived key)', () => {
  const now = 1_700_000_000;
  const ring = new KeyRing(randomSecret());
  const sealed = () => sealValue(ring, 'oidc-login', '{"state":"s1","verifier":"v"}', now + 600);

  it('matches the test vector computed independently (Python cryptography: HKDF-SHA256, AES-GCM)', () => {
    const vectorRing = new KeyRing('sealed-value test vector secret, 32+ characters long');
    const vector = 'v1.2jNjozdLOCjVqi9N.AAAAAAAAAAAAAAAA.W-lX3kscLEmsNFbrr_CqV26s0AZzSZL3OOJS0b5Hx-smDk8FokVAXVE.fhCpfBmKkiKLBhOFchiiDg';
    expect(sealValue(vectorRing, 'oidc-login', '{"state":"s1"}', 1_800_000_000, Buffer.alloc(12))).toBe(vector);
    expect(openSealedValue(vectorRing, 'oidc-login', vector, 1_799_999_999)).toBe('{"state":"s1"}');
  });

  it('opens on any instance with the secret, and after a rotation while the old secret is configured', () => {
    const old = randomSecret();
    const value = sealValue(new KeyRing(old), 'oidc-login', 'carried', now + 600);
    expect(openSealedValue(new KeyRing(old), 'oidc-login', value, now)).toBe('carried');
    expect(openSealedValue(new KeyRing(randomSecret(), [old]), 'oidc-login', value, now)).toBe('carried');
    expect(sealed()).not.toContain('verifier');
  });

  it.each<[string, (sealedValue: string) => string | undefined]>([
    ['nothing', () => undefined],
    ['a flipped ciphertext byte', (s) => s.replace(/\.([^.]+)\.([^.]+)$/, (_m, body: string, tag: string) => `.${flip(body)}.${tag}`)],
    ['a flipped tag byte', (s) => s.replace(/\.([^.]+)$/, (_m, tag: string) => `.${flip(tag)}`)],
    ['a truncated tag', (s) => s.slice(0, -4)],
    ['another version', (s) => s.replace(/^v1/, 'v2')],
    ['an unknown key id', (s) => s.replace(/^v1\.[^.]+/, 'v1.AAAAAAAAAAAAAAAA')],
    ['a short nonce', (s) => s.replace(/^(v1\.[^.]+)\.[^.]+/, '$1.AAAA')],
    ['extra parts', (s) => `${s}.x`],
    ['a huge value', (s) => `${s}${'a'.repeat(5000)}`],
  ])('refuses %s', (_name, tamper) => {
    expect(openSealedValue(ring, 'oidc-login', tamper(sealed()), now)).toBeUndefined();
  });

  it('never opens a value sealed for another purpose, nor an expired one', () => {
    expect(openSealedValue(ring, 'other-purpose', sealed(), now)).toBeUndefined();
    expect(openSealedValue(ring, 'oidc-login', sealed(), now + 600)).toBeUndefined();
    expect(openSealedValue(ring, 'oidc-login', sealed(), now + 599)).toBe('{"state":"s1","verifier":"v"}');
  });

  it('a different secret cannot open it', () => {
    expect(openSealedValue(new KeyRing(randomSecret()), 'oidc-login', sealed(), now)).toBeUndefined();
  });
});

function flip(segment: string): string {
  const bytes = Buffer.from(segment, 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  return bytes.toString('base64url');
}
