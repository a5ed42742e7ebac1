import { pkceChallengeProblem, pkceS256Challenge, pkceVerifierMatches } from './pkce';

// RFC 7636 Appendix B.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

describe('PKCE (RFC 7636, S256 only)', () => {
  it('computes the RFC 7636 Appendix B challenge and accepts its verifier', () => {
    expect(pkceS256Challenge(VERIFIER)).toBe(CHALLENGE);
    expect(pkceVerifierMatches(VERIFIER, CHALLENGE)).toBe(true);
    expect(pkceChallengeProblem(CHALLENGE, 'S256')).toBeUndefined();
  });

  it.each([
    ['no challenge', undefined, 'S256', /code_challenge is required/],
    ['no method (which RFC 7636 would read as plain)', CHALLENGE, undefined, /code_challenge_method is required/],
    ['the plain method', VERIFIER, 'plain', /plain is not accepted; use S256/],
    ['a method of its own', CHALLENGE, 's256', /s256 is not accepted/],
    ['a challenge that is not a SHA-256', 'abc', 'S256', /not a base64url SHA-256/],
    ['a padded challenge', `${CHALLENGE.slice(0, 42)}=`, 'S256', /not a base64url SHA-256/],
  ])('refuses an authorization request with %s', (_name, challenge, method, message) => {
    expect(pkceChallengeProblem(challenge, method)).toMatch(message);
  });

  it.each([
    ['no verifier', undefined],
    ['another verifier', `${VERIFIER.slice(0, -1)}K`],
    ['the challenge itself (a plain-method replay)', CHALLENGE],
    ['a verifier shorter than 43 characters', VERIFIER.slice(0, 42)],
    ['a verifier with characters outside the unreserved set', `${VERIFIER.slice(0, -1)}+`],
    ['a verifier longer than 128 characters', 'a'.repeat(129)],
  ])('refuses a token request with %s', (_name, verifier) => {
    expect(pkceVerifierMatches(verifier, CHALLENGE)).toBe(false);
  });
});
