import { createHmac } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { accessClaims, craftToken, randomSecret } from '../../testing';
import { AuthError, type AuthFailureReason } from '../auth.errors';
import { resolveAuthOptions, type AuthModuleOptions } from '../auth-options';
import { deriveKeyId } from '../keys/key-ring';
import type { Principal } from '../principal';
import { TokenIssuerService } from './token-issuer.service';
import { TokenVerifierService } from './token-verifier.service';

const secret = randomSecret();
const baseOptions: AuthModuleOptions = {
  secret,
  issuer: 'orchestrator',
  allowedIssuers: ['orchestrator', 'mahavishnu'],
  audiences: ['session-buddy', 'http://127.0.0.1:8678/mcp'],
};
const verifierWith = (overrides: Partial<AuthModuleOptions> = {}) => new TokenVerifierService(resolveAuthOptions({ ...baseOptions, ...overrides }));

function reasonOf(fn: () => unknown): AuthFailureReason {
  try {
    fn();
  } catch (error) {
    if (error instanceof AuthError) return error.reason;
    throw error;
  }
  throw new Error('expected an AuthError, but verification passed');
}

describe('TokenVerifierService', () => {
  const verifier = verifierWith();
  const now = Math.floor(Date.now() / 1000);

  describe('accepts', () => {
    it('a well-formed access token and maps its claims to a principal', () => {
      const p = verifier.verify(craftToken(accessClaims({ role: 'viewer', scope: 'delete' }), secret));
      expect(p).toMatchObject({ subject: 'alice', issuer: 'orchestrator', audience: ['session-buddy'], role: 'viewer', anonymous: false });
      expect([...p.scopes].sort()).toEqual(['delete', 'read']);
    });

    it('a token minted by TokenIssuerService through @nestjs/jwt, with its kid', () => {
      const issuer = new TokenIssuerService(resolveAuthOptions(baseOptions), new JwtService({}));
      const minted = issuer.mint({ subject: 'bob', audience: 'session-buddy', scopes: ['read'], actor: 'orchestrator' });
      const header = JSON.parse(Buffer.from(minted.token.split('.')[0] ?? '', 'base64url').toString());
      expect(header).toEqual({ alg: 'HS256', typ: 'at+jwt', kid: deriveKeyId(secret) });
      const p = verifier.verify(minted.token);
      expect(p).toMatchObject({ subject: 'bob', actor: 'orchestrator', tokenId: minted.tokenId, expiresAt: minted.expiresAt });
    });

    it('a delegation chain (nested act, RFC 8693 §4.1), current actor first; minted chains nest the same way', () => {
      const p = verifier.verify(craftToken(accessClaims({ act: { sub: 'orchestrator', act: { sub: 'mahavishnu' } } }), secret));
      expect(p).toMatchObject({ subject: 'alice', actor: 'orchestrator', actors: ['orchestrator', 'mahavishnu'] });
      const issuer = new TokenIssuerService(resolveAuthOptions(baseOptions), new JwtService({}));
      const minted = issuer.mint({ subject: 'bob', audience: 'session-buddy', scopes: ['read'], actor: ['orchestrator', 'mahavishnu', 'cron'] });
      const claims = JSON.parse(Buffer.from(minted.token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
      expect(claims['act']).toEqual({ sub: 'orchestrator', act: { sub: 'mahavishnu', act: { sub: 'cron' } } });
      expect(verifier.verify(minted.token).actors).toEqual(['orchestrator', 'mahavishnu', 'cron']);
      expect(verifier.verify(craftToken(accessClaims(), secret)).actors).toBeUndefined();
    });

    it('scopes given as a `scopes` array or an `scp` claim', () => {
      const t1 = craftToken(accessClaims({ scope: undefined, scopes: ['read', 'delete'] }), secret);
      const t2 = craftToken(accessClaims({ scope: undefined, scp: 'write' }), secret);
      expect([...verifier.verify(t1).scopes].sort()).toEqual(['delete', 'read']);
      expect(verifier.verify(t2).scopes).toEqual(['write']);
    });

    it('a token signed with a previous secret during rotation', () => {
      const old = randomSecret();
      const rotated = verifierWith({ secret: randomSecret(), previousSecrets: [old] });
      expect(rotated.verify(craftToken(accessClaims(), old)).subject).toBe('alice');
    });

    it('a PyJWT token in the seed shape (no kid, no aud) only when legacy tokens are accepted', () => {
      const legacy = craftToken({ user_id: 'mahavishnu', exp: now + 3600, iat: now, type: 'access', iss: 'mahavishnu', role: 'orchestrator' }, secret, {
        kid: undefined,
      });
      expect(reasonOf(() => verifier.verify(legacy))).toBe('legacy_token');
      const p = verifierWith({ acceptLegacyTokens: true }).verify(legacy);
      expect(p).toMatchObject({ subject: 'mahavishnu', issuer: 'mahavishnu', role: 'orchestrator' });
      expect([...p.scopes].sort()).toEqual(['read', 'write']);
    });

    it.each(['JWT', 'jwt', 'Jwt', 'at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/JWT'])(
      'typ %p (media type names are case-insensitive, RFC 7515 §4.1.9)',
      (typ) => {
        expect(verifier.verify(craftToken(accessClaims(), secret, { typ })).subject).toBe('alice');
      },
    );

    it('an expired token still inside the clock-skew tolerance', () => {
      expect(verifier.verify(craftToken(accessClaims({ exp: now - 10 }), secret)).subject).toBe('alice');
    });
  });

  describe('refuses', () => {
    const cases: Array<[string, () => string, AuthFailureReason]> = [
      ['no token at all', () => '', 'missing'],
      ['a token over the size limit, before parsing it', () => 'a'.repeat(8193), 'too_large'],
      ['a string that is not a JWS', () => 'not-a-token', 'malformed'],
      ['a token with four segments', () => `${craftToken(accessClaims(), secret)}.x`, 'malformed'],
      ['a header that is not JSON', () => `bm90LWpzb24.${craftToken(accessClaims(), secret).split('.').slice(1).join('.')}`, 'malformed'],
      ['an unsigned alg:none token', () => craftToken(accessClaims(), secret, { alg: 'none' }), 'bad_signature'],
      ['an RS256 header', () => craftToken(accessClaims(), secret, { alg: 'RS256' }), 'bad_signature'],
      ['an HS512 header', () => craftToken(accessClaims(), secret, { alg: 'HS512' }), 'bad_signature'],
      [
        'an HS256 token signed with another secret but our kid',
        () => craftToken(accessClaims(), randomSecret(), { kid: deriveKeyId(secret) }),
        'bad_signature',
      ],
      ['an HS256 token signed with another secret and its own kid', () => craftToken(accessClaims(), randomSecret()), 'unknown_key'],
      ['a legacy token (no kid) signed with another secret', () => craftToken(accessClaims(), randomSecret(), { kid: undefined }), 'bad_signature'],
      [
        'a tampered payload',
        () => {
          const [h, , s] = craftToken(accessClaims(), secret).split('.');
          return `${h}.${Buffer.from(JSON.stringify(accessClaims({ scope: 'admin' }))).toString('base64url')}.${s}`;
        },
        'bad_signature',
      ],
      ['a truncated signature', () => craftToken(accessClaims(), secret).slice(0, -3), 'bad_signature'],
      ['a signature with non-base64url characters', () => `${craftToken(accessClaims(), secret).slice(0, -1)}=`, 'malformed'],
      ['a token without exp', () => craftToken(accessClaims({ exp: undefined }), secret), 'malformed'],
      ['an exp that is not a number', () => craftToken(accessClaims({ exp: 'tomorrow' }), secret), 'malformed'],
      ['an expired token', () => craftToken(accessClaims({ exp: now - 31 }), secret), 'expired'],
      ['a token whose nbf is in the future', () => craftToken(accessClaims({ nbf: now + 120 }), secret), 'not_yet_valid'],
      ['a token issued in the future', () => craftToken(accessClaims({ iat: now + 120 }), secret), 'not_yet_valid'],
      ['an issuer outside the allow-list', () => craftToken(accessClaims({ iss: 'evil' }), secret), 'wrong_issuer'],
      ['a token with no issuer', () => craftToken(accessClaims({ iss: undefined }), secret), 'wrong_issuer'],
      ['a token for another audience', () => craftToken(accessClaims({ aud: 'orchestrator' }), secret), 'wrong_audience'],
      ['a token with no audience', () => craftToken(accessClaims({ aud: undefined }), secret), 'legacy_token'],
      ['a typ that is not a JWT media type', () => craftToken(accessClaims(), secret, { typ: 'JOSE+JSON' }), 'malformed'],
      ['a refresh-token typ', () => craftToken(accessClaims(), secret, { typ: 'refresh+jwt' }), 'malformed'],
      ['a typ with trailing space', () => craftToken(accessClaims(), secret, { typ: 'JWT ' }), 'malformed'],
      ['a typ that is not a string', () => craftToken(accessClaims(), secret, { typ: 1 }), 'malformed'],
      ['a refresh token used as an access token', () => craftToken(accessClaims({ type: 'refresh' }), secret), 'wrong_type'],
      ['a token with no type', () => craftToken(accessClaims({ type: undefined }), secret), 'wrong_type'],
      ['a token with no subject', () => craftToken(accessClaims({ sub: undefined }), secret), 'malformed'],
      ['a subject with control characters', () => craftToken(accessClaims({ sub: 'a\nb' }), secret), 'malformed'],
      ['a scope claim that is not a string list', () => craftToken(accessClaims({ scopes: [1, 2] }), secret), 'malformed'],
      ['a token claiming a lifetime beyond the maximum', () => craftToken(accessClaims({ exp: now + 90_000 }), secret), 'malformed'],
      ['a crit header', () => craftToken(accessClaims(), secret, { crit: ['exp'] }), 'malformed'],
      ['an act without sub', () => craftToken(accessClaims({ act: { client_id: 'x' } }), secret), 'malformed'],
      ['a nested act without sub', () => craftToken(accessClaims({ act: { sub: 'a', act: { name: 'b' } } }), secret), 'malformed'],
      [
        'an act chain of six',
        () =>
          craftToken(
            accessClaims({ act: ['a', 'b', 'c', 'd', 'e', 'f'].reduceRight<unknown>((inner, sub) => (inner ? { sub, act: inner } : { sub }), undefined) }),
            secret,
          ),
        'malformed',
      ],
      ['an act sub with control characters', () => craftToken(accessClaims({ act: { sub: 'a\nb' } }), secret), 'malformed'],
      ['a client_id with a space', () => craftToken(accessClaims({ client_id: 'https://app.example/a b' }), secret), 'malformed'],
      ['a client_id URL that is not https', () => craftToken(accessClaims({ client_id: 'http://app.example/client.json' }), secret), 'malformed'],
      ['a client_id that is not a string', () => craftToken(accessClaims({ client_id: 7 }), secret), 'malformed'],
    ];
    it.each(cases)('%s', (_name, token, reason) => {
      expect(reasonOf(() => verifier.verify(token()))).toBe(reason);
    });

    it('a client known by its metadata document, named by an https URL', () => {
      const token = craftToken(accessClaims({ client_id: 'https://app.example/oauth/client.json' }), secret);
      expect(verifier.verify(token).clientId).toBe('https://app.example/oauth/client.json');
    });

    it('a revoked token, even when its verification is cached', () => {
      const revoked = new Set<string>();
      const v = verifierWith({ revocationStore: { isRevoked: (p: Principal) => revoked.has(p.tokenId ?? '') } });
      const token = craftToken(accessClaims({ jti: 'j-1' }), secret);
      expect(v.verify(token).tokenId).toBe('j-1');
      revoked.add('j-1');
      expect(reasonOf(() => v.verify(token))).toBe('revoked');
    });

    it('a cached token once it has expired', () => {
      const v = verifierWith({ clockSkewSeconds: 0 });
      const token = craftToken(accessClaims({ iat: now, exp: now + 1 }), secret);
      v.verify(token, now * 1000);
      expect(v.cacheStats.size).toBe(1);
      expect(reasonOf(() => v.verify(token, (now + 5) * 1000))).toBe('expired');
    });
  });

  it('says what is true of a legacy token, and names the setting that accepts it when one is given', () => {
    const legacy = craftToken(accessClaims({ aud: undefined }), secret);
    const refusal = (v: TokenVerifierService): AuthError => {
      try {
        v.verify(legacy);
      } catch (error) {
        if (error instanceof AuthError) return error;
      }
      throw new Error('expected a refusal');
    };
    const plain = refusal(verifier);
    expect(plain.message).toBe('Token has no audience claim (a legacy token), and this server does not accept legacy tokens');
    expect(plain.message).not.toMatch(/another audience/);
    const named = refusal(verifierWith({ legacyTokensSetting: 'SESSION_BUDDY_ACCEPT_LEGACY_TOKENS' }));
    expect(named.message).toMatch(/set SESSION_BUDDY_ACCEPT_LEGACY_TOKENS=true to accept them$/);
    expect(named.toolMessage).toContain('legacy_token');
  });

  it('serves repeat verifications from the cache and can evict them', () => {
    const v = verifierWith();
    const token = craftToken(accessClaims({ sub: 'carol' }), secret);
    v.verify(token);
    v.verify(token);
    expect(v.cacheStats).toMatchObject({ enabled: true, size: 1, hits: 1, misses: 1 });
    expect(v.evict((p) => p.subject === 'carol')).toBe(1);
    expect(v.cacheStats.size).toBe(0);
  });

  it('bypasses the cache while the revocation store says revocations may be missing (fan-out down)', () => {
    let caching = true;
    const v = verifierWith({ revocationStore: { isRevoked: () => false, allowsCaching: () => caching } });
    const token = craftToken(accessClaims(), secret);
    v.verify(token);
    v.verify(token);
    expect(v.cacheStats).toMatchObject({ hits: 1, misses: 1 });
    caching = false;
    v.verify(token);
    v.verify(token);
    expect(v.cacheStats).toMatchObject({ hits: 1, misses: 1 });
    caching = true;
    v.verify(token);
    expect(v.cacheStats).toMatchObject({ hits: 2 });
  });

  it('does not cache failures: a bad token is checked again each time', () => {
    const v = verifierWith();
    const bad = craftToken(accessClaims(), randomSecret(), { kid: undefined });
    expect(reasonOf(() => v.verify(bad))).toBe('bad_signature');
    expect(reasonOf(() => v.verify(bad))).toBe('bad_signature');
    expect(v.cacheStats.size).toBe(0);
  });

  it('agrees with an independent HMAC over the signing input (pins the MAC bytes)', () => {
    const token = craftToken(accessClaims(), secret);
    const [h, p, s] = token.split('.');
    expect(createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')).toBe(s);
    expect(verifier.verifyUncached(token).subject).toBe('alice');
  });

  describe('activeFor (the authorization server asking about a token for another audience)', () => {
    const token = (overrides: Record<string, unknown> = {}) => craftToken(accessClaims({ aud: 'client-7', ...overrides }), secret);

    it('answers the principal of a valid, unrevoked token of this issuer for one of the audiences', () => {
      expect(verifier.activeFor(token(), ['client-7', 'other'], 'orchestrator')).toMatchObject({ subject: 'alice', audience: ['client-7'] });
    });

    it.each<[string, () => string, readonly string[]]>([
      ['another audience', () => token(), ['client-8']],
      ['no audience asked for', () => token(), []],
      ['another allowed issuer (mahavishnu is trusted for verification, not as this issuer)', () => token({ iss: 'mahavishnu' }), ['client-7']],
      ['an expired token', () => token({ iat: now - 600, exp: now - 300 }), ['client-7']],
      ['an audience-less legacy token', () => token({ aud: undefined, type: undefined }), ['client-7']],
      ['a token signed with another secret', () => craftToken(accessClaims({ aud: 'client-7' }), randomSecret(), { kid: undefined }), ['client-7']],
      ['a token over the size limit', () => 'a'.repeat(9000), ['client-7']],
      ['garbage', () => 'not-a-jwt', ['client-7']],
    ])('answers undefined for %s', (_name, make, audiences) => {
      expect(verifier.activeFor(make(), audiences, 'orchestrator')).toBeUndefined();
    });

    it('answers undefined for a revoked token', () => {
      const v = verifierWith({ revocationStore: { isRevoked: (p: Principal) => p.tokenId === 'gone' } });
      expect(v.activeFor(token({ jti: 'gone' }), ['client-7'], 'orchestrator')).toBeUndefined();
      expect(v.activeFor(token({ jti: 'kept' }), ['client-7'], 'orchestrator')?.tokenId).toBe('kept');
    });
  });

  describe('grantOf (whose token this is, by signature alone)', () => {
    it('names subject, first audience, jti and exp, even of an expired token for another audience', () => {
      const t = craftToken(accessClaims({ aud: ['client-7', 'x'], jti: 'j-9', iat: now - 900, exp: now - 600 }), secret);
      expect(verifier.grantOf(t)).toEqual({ subject: 'alice', audience: 'client-7', tokenId: 'j-9', expiresAt: now - 600 });
    });

    it('leaves out what the token does not say', () => {
      expect(verifier.grantOf(craftToken(accessClaims({ jti: undefined, aud: undefined }), secret))).toEqual({
        subject: 'alice',
        expiresAt: expect.any(Number),
      });
    });

    it.each<[string, () => string, AuthFailureReason]>([
      ['a token signed with another secret', () => craftToken(accessClaims(), randomSecret(), { kid: undefined }), 'bad_signature'],
      ['alg none', () => craftToken(accessClaims(), secret, { alg: 'none' }), 'bad_signature'],
      ['a token over the size limit', () => 'a'.repeat(9000), 'too_large'],
      ['garbage', () => 'not-a-jwt', 'malformed'],
    ])('refuses %s', (_name, make, reason) => {
      expect(reasonOf(() => verifier.grantOf(make()))).toBe(reason);
    });
  });
});
