import { craftToken, randomSecret, testIssuer } from '../../testing';
import { AuthError, type AuthFailureReason } from '../auth.errors';
import { resolveAuthOptions } from '../auth-options';
import { ownerOf } from '../principal';
import { TokenVerifierService } from '../tokens/token-verifier.service';
import type { TrustedIssuerSettings } from './trust-file';
import { TrustedIssuers } from './trusted-issuers';

const AUDIENCE = 'http://127.0.0.1:8679/mcp';
const secret = randomSecret();
const now = () => Math.floor(Date.now() / 1000);

function reasonOf(fn: () => unknown): { reason: AuthFailureReason; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof AuthError) return { reason: error.reason, message: error.detail ?? '' };
    throw error;
  }
  throw new Error('expected an AuthError, but verification passed');
}

const entry = (issuer: string, over: Partial<TrustedIssuerSettings> = {}): TrustedIssuerSettings => ({
  issuer,
  keys: { discovery: 'oidc' },
  audiences: [AUDIENCE],
  algorithms: ['RS256'],
  scopeClaim: 'scp',
  scopes: ['read', 'write'],
  refreshSeconds: 300,
  minRefetchSeconds: 60,
  ...over,
});

describe('tokens of trusted outside issuers, against real loopback issuers', () => {
  let okta: Awaited<ReturnType<typeof testIssuer>>;
  let other: Awaited<ReturnType<typeof testIssuer>>;
  let weak: Awaited<ReturnType<typeof testIssuer>>;
  let trust: TrustedIssuers;
  let verifier: TokenVerifierService;
  const claims = (over: Record<string, unknown> = {}) => ({
    sub: 'alice',
    aud: AUDIENCE,
    exp: now() + 300,
    iat: now(),
    scp: ['read', 'write', 'delete'],
    ...over,
  });

  beforeAll(async () => {
    [okta, other, weak] = await Promise.all([
      testIssuer([{ alg: 'RS256' }, { alg: 'PS256' }, { alg: 'ES256' }]),
      testIssuer([{ alg: 'RS256' }]),
      testIssuer([{ alg: 'RS256', bits: 1024 }]),
    ]);
    trust = new TrustedIssuers({ allowLoopbackHttp: true });
    await trust.replace([
      entry(okta.issuer, { algorithms: ['RS256', 'PS256'] }),
      entry(other.issuer, { keys: { jwksUri: other.jwksUri }, scopeClaim: 'scope', scopes: ['read'] }),
      entry(weak.issuer),
    ]);
    verifier = new TokenVerifierService(
      resolveAuthOptions({ secret, issuer: 'orchestrator', allowedIssuers: ['orchestrator'], audiences: ['session-buddy', AUDIENCE], trustedIssuers: trust }),
    );
  });

  afterAll(async () => {
    trust.stop();
    await Promise.all([okta.close(), other.close(), weak.close()]);
  });

  it('accepts RS256 and PS256, scopes from the named claim capped by the trust entry, owned by issuer and subject', () => {
    const rs = verifier.verify(okta.sign(claims(), { kid: okta.kids[0] }));
    expect(rs).toMatchObject({ subject: 'alice', issuer: okta.issuer, scopes: ['read', 'write'], anonymous: false });
    expect(ownerOf(rs)).toBe(`${okta.issuer}#alice`);
    expect(verifier.verify(okta.sign(claims({ jti: 'p1' }), { kid: okta.kids[1] })).scopes).toEqual(['read', 'write']);
  });

  it('makes alice at two issuers two owners, and each issuer its own cap and scope claim', () => {
    const a = verifier.verify(okta.sign(claims()));
    const b = verifier.verify(other.sign(claims({ scope: 'read write', scp: undefined })));
    expect(ownerOf(a)).not.toBe(ownerOf(b));
    expect(b.scopes).toEqual(['read']);
  });

  it('grants nothing for a role claim, and nothing for scopes in a claim the entry does not name', () => {
    const p = verifier.verify(okta.sign(claims({ role: 'admin', scp: undefined, scope: 'read write admin' })));
    expect(p.scopes).toEqual([]);
    expect(p.role).toBeUndefined();
  });

  it('refuses HS256 naming an outside issuer, even signed with this server’s own secret', () => {
    const forged = craftToken(claims({ iss: okta.issuer }), secret);
    expect(reasonOf(() => verifier.verify(forged))).toMatchObject({ reason: 'bad_signature', message: expect.stringContaining('not allowed for this issuer') });
  });

  it('refuses an algorithm the issuer is not trusted for, though its JWKS has such a key', () => {
    expect(reasonOf(() => verifier.verify(okta.sign(claims(), { kid: okta.kids[2] }))).reason).toBe('bad_signature');
  });

  it('refuses a kid found only in another issuer’s JWKS: keys of one issuer never verify a token naming another', () => {
    const borrowed = other.sign(claims({ iss: okta.issuer }));
    expect(reasonOf(() => verifier.verify(borrowed))).toMatchObject({ reason: 'unknown_key' });
  });

  it('refuses a trusted issuer’s token for another audience, or with none', () => {
    expect(reasonOf(() => verifier.verify(okta.sign(claims({ aud: 'https://elsewhere/mcp' })))).reason).toBe('wrong_audience');
    expect(reasonOf(() => verifier.verify(okta.sign(claims({ aud: undefined })))).reason).toBe('wrong_audience');
  });

  it('refuses an untrusted issuer, and an RSA key under 2048 bits', async () => {
    const stranger = await testIssuer([{ alg: 'RS256' }]);
    try {
      expect(reasonOf(() => verifier.verify(stranger.sign(claims()))).reason).toBe('wrong_issuer');
    } finally {
      await stranger.close();
    }
    expect(weak.requests.jwks).toBeGreaterThan(0);
    expect(reasonOf(() => verifier.verify(weak.sign(claims()))).reason).toBe('unknown_key');
  });

  it('accepts an untyped, JWT- or at+jwt-typed token, and refuses one typed for another use (an ID-JAG, a logout token)', () => {
    for (const typ of ['JWT', 'at+jwt', 'application/at+JWT'])
      expect(verifier.verify(okta.sign(claims({ jti: typ }), { header: { typ } })).subject).toBe('alice');
    for (const typ of ['oauth-id-jag+jwt', 'logout+jwt', 'dpop+jwt'])
      expect(reasonOf(() => verifier.verify(okta.sign(claims(), { header: { typ } })))).toMatchObject({
        reason: 'malformed',
        message: expect.stringContaining('typ'),
      });
  });

  it('refuses expired tokens and a signature that does not verify', () => {
    expect(reasonOf(() => verifier.verify(okta.sign(claims({ exp: now() - 120 })))).reason).toBe('expired');
    const token = okta.sign(claims());
    const tampered = token.replace(/\.[^.]+\./, `.${Buffer.from(JSON.stringify({ ...claims(), iss: okta.issuer, sub: 'mallory' })).toString('base64url')}.`);
    expect(reasonOf(() => verifier.verify(tampered)).reason).toBe('bad_signature');
  });

  it('refetches an unknown kid per issuer, no sooner than that issuer’s floor', () => {
    const before = { okta: okta.requests.jwks, other: other.requests.jwks };
    for (let i = 0; i < 20; i++) reasonOf(() => verifier.verify(okta.sign(claims(), { header: { kid: 'made-up' } })));
    expect(okta.requests.jwks - before.okta).toBeLessThanOrEqual(1);
    expect(other.requests.jwks).toBe(before.other);
  });

  it('drops cached verifications of an issuer whose entry changes, so a narrower cap applies at once', async () => {
    const token = other.sign(claims({ scope: 'read', scp: undefined, jti: 'cached' }));
    expect(verifier.verify(token).scopes).toEqual(['read']);
    await trust.replace([entry(okta.issuer), entry(other.issuer, { keys: { jwksUri: other.jwksUri }, scopeClaim: 'scope', scopes: ['write'] })]);
    expect(verifier.verify(token).scopes).toEqual([]);
    await trust.replace([entry(okta.issuer)]);
    expect(reasonOf(() => verifier.verify(token)).reason).toBe('wrong_issuer');
  });
});
