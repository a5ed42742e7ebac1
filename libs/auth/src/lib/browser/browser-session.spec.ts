import { randomSecret } from '../../testing';
import { KeyRing } from '../keys/key-ring';
import { csrfTokenFor, csrfTokenMatches, signBrowserSession, verifyBrowserSession } from './browser-session';

describe('browser sessions and CSRF tokens', () => {
  const secret = randomSecret();
  const ring = new KeyRing(secret);
  const now = 1_800_000_000;
  const session = { username: 'alice', issuedAt: now, expiresAt: now + 3600 };

  it('reads back the session it signed, on any instance with the same secret', () => {
    const cookie = signBrowserSession(ring, session);
    expect(verifyBrowserSession(new KeyRing(secret), cookie, now + 10)).toEqual(session);
  });

  it('reads back a username with dots in it (an email address)', () => {
    const dotted = { ...session, username: 'alice.smith@acme.example' };
    expect(verifyBrowserSession(ring, signBrowserSession(ring, dotted), now)).toEqual(dotted);
    expect(verifyBrowserSession(ring, signBrowserSession(ring, dotted).replace('.smith@', '.smyth@'), now)).toBeUndefined();
  });

  it('keeps sessions across a secret rotation while the old secret is still configured', () => {
    const cookie = signBrowserSession(ring, session);
    const rotated = new KeyRing(randomSecret(), [secret]);
    expect(verifyBrowserSession(rotated, cookie, now)).toEqual(session);
    expect(verifyBrowserSession(new KeyRing(randomSecret()), cookie, now)).toBeUndefined();
  });

  it.each<[string, (cookie: string) => string | undefined]>([
    ['no cookie', () => undefined],
    ['another user written in', (c) => c.replace('.alice.', '.mallory.')],
    ['a later expiry written in', (c) => c.replace(`.${now + 3600}.`, `.${now + 999_999}.`)],
    ['a truncated signature', (c) => c.slice(0, -2)],
    ['another version', (c) => c.replace(/^v1/, 'v2')],
    ['extra parts', (c) => `${c}.x`],
    ['a huge value', (c) => `${c}${'a'.repeat(300)}`],
    ['a username that is not plain', (c) => c.replace('.alice.', '.al ice.')],
  ])('refuses %s', (_name, tamper) => {
    expect(verifyBrowserSession(ring, tamper(signBrowserSession(ring, session)), now)).toBeUndefined();
  });

  it('refuses an expired session', () => {
    expect(verifyBrowserSession(ring, signBrowserSession(ring, session), now + 3600)).toBeUndefined();
  });

  it('binds a CSRF token to its cookie, and a token for one cookie fails for another', () => {
    const token = csrfTokenFor(ring, 'cookie-a');
    expect(csrfTokenMatches(ring, 'cookie-a', token)).toBe(true);
    expect(csrfTokenMatches(ring, 'cookie-b', token)).toBe(false);
    expect(csrfTokenMatches(ring, 'cookie-a', undefined)).toBe(false);
    expect(csrfTokenMatches(ring, undefined, token)).toBe(false);
    expect(csrfTokenMatches(ring, 'cookie-a', `${token.slice(0, -1)}x`)).toBe(false);
    expect(csrfTokenMatches(new KeyRing(randomSecret()), 'cookie-a', token)).toBe(false);
  });
});
