import { AuthError } from '../auth.errors';
import { extractBearerToken } from './bearer';
import { buildBearerChallenge } from './challenge';

const reason = (fn: () => unknown): string => {
  try {
    fn();
    return 'passed';
  } catch (error) {
    return error instanceof AuthError ? error.reason : 'other';
  }
};

describe('extractBearerToken', () => {
  it.each(['Bearer abc.def.ghi', 'bearer abc.def.ghi', 'BEARER   abc.def.ghi'])('reads %p (scheme is case-insensitive)', (header) => {
    expect(extractBearerToken({ headers: { authorization: header } })).toBe('abc.def.ghi');
  });

  it('reads a single Authorization header among other raw headers', () => {
    expect(
      extractBearerToken({ headers: { authorization: 'Bearer a.b.c' }, rawHeaders: ['Host', 'x', 'Authorization', 'Bearer a.b.c', 'Authorisation', 'y'] }),
    ).toBe('a.b.c');
  });

  it('returns nothing without an Authorization header or with another scheme', () => {
    expect(extractBearerToken({ headers: {} })).toBeUndefined();
    expect(extractBearerToken({ headers: { authorization: 'Basic dXNlcjpwYXNz' } })).toBeUndefined();
  });

  it.each([
    ['a token in the query string', { headers: {}, url: '/mcp?access_token=abc' }],
    ['a token query parameter next to a header', { headers: { authorization: 'Bearer a.b.c' }, url: '/mcp?x=1&token=abc' }],
    ['"Bearer" with no token', { headers: { authorization: 'Bearer' } }],
    ['a token with spaces inside', { headers: { authorization: 'Bearer abc def' } }],
    ['two Authorization headers', { headers: { authorization: ['Bearer a.b.c', 'Bearer d.e.f'] } }],
    [
      'a second Authorization header that Node dropped from headers',
      { headers: { authorization: 'Bearer a.b.c' }, rawHeaders: ['Host', 'x', 'Authorization', 'Bearer a.b.c', 'authorization', 'Bearer d.e.f'] },
    ],
    [
      'a second Authorization header with another scheme',
      { headers: { authorization: 'Bearer a.b.c' }, rawHeaders: ['Authorization', 'Bearer a.b.c', 'AUTHORIZATION', 'Basic dXNlcjpwYXNz'] },
    ],
  ])('refuses %s as malformed', (_name, source) => {
    expect(reason(() => extractBearerToken(source))).toBe('malformed');
  });
});

describe('buildBearerChallenge', () => {
  const url = 'http://127.0.0.1:8678/.well-known/oauth-protected-resource/mcp';

  it('has no error code when no token was presented', () => {
    expect(buildBearerChallenge({ error: new AuthError('missing'), resourceMetadataUrl: url, scope: ['read'] })).toBe(
      `Bearer scope="read", resource_metadata="${url}"`,
    );
  });

  it('says invalid_token with the reason when a token failed', () => {
    expect(buildBearerChallenge({ error: new AuthError('expired'), resourceMetadataUrl: url })).toBe(
      `Bearer error="invalid_token", error_description="expired: Token has expired", resource_metadata="${url}"`,
    );
  });

  it('says insufficient_scope with the missing scopes', () => {
    const challenge = buildBearerChallenge({ error: new AuthError('insufficient_scope', undefined, ['write']), resourceMetadataUrl: url });
    expect(challenge).toBe(
      `Bearer error="insufficient_scope", error_description="insufficient_scope: Token lacks a required scope", scope="write", resource_metadata="${url}"`,
    );
  });
});
