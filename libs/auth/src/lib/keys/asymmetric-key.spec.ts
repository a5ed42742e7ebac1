import { createHmac, generateKeyPairSync, sign, type JsonWebKey } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { accessClaims, randomSecret } from '../../testing';
import { resolveAuthOptions, type AuthModuleOptions } from '../auth-options';
import { AuthError } from '../auth.errors';
import { TokenIssuerService } from '../tokens/token-issuer.service';
import { TokenVerifierService } from '../tokens/token-verifier.service';
import {
  generateSigningKey,
  jwkThumbprint,
  privateSigningKeyFromText,
  publicJwkOf,
  signJwsInput,
  signingKeyFromJwk,
  type PrivateSigningKey,
  type PublicSigningKey,
} from './asymmetric-key';
import type { PublicKeySource, SigningKeySource } from './public-key-source';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('asymmetric keys: pinned vectors', () => {
  // RFC 8037 Appendix A.1-A.4.
  const rfcKey: JsonWebKey = { kty: 'OKP', crv: 'Ed25519', d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' };

  it('signs RFC 8037 A.4 to the published Ed25519 signature', () => {
    const key = signingKeyFromJwk(rfcKey, 'EdDSA');
    expect(signJwsInput('eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc', key).toString('base64url')).toBe(
      'hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg',
    );
  });

  it('derives kid as the RFC 7638 thumbprint (RFC 8037 A.3 and RFC 7638 §3.1 vectors)', () => {
    expect(signingKeyFromJwk(rfcKey, 'EdDSA').kid).toBe('kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
    const rsa: JsonWebKey = {
      kty: 'RSA',
      e: 'AQAB',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
    };
    expect(jwkThumbprint(rsa)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it('publishes only public members, with kid, alg and use', () => {
    for (const alg of ['EdDSA', 'ES256'] as const) {
      const jwk = publicJwkOf(generateSigningKey(alg)) as Record<string, unknown>;
      expect(jwk).not.toHaveProperty('d');
      expect(jwk).toMatchObject({ alg, use: 'sig', kid: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    }
  });

  it('refuses a key of the wrong type for the algorithm', () => {
    expect(() => signingKeyFromJwk(generateSigningKey('ES256').privateKey.export({ format: 'jwk' }), 'EdDSA')).toThrow(/not an EdDSA key/);
  });
});

/** A key set that holds exactly the given keys. */
function source(keys: PublicSigningKey[], issuers: string[] = []): PublicKeySource & { unknown: string[] } {
  const unknown: string[] = [];
  return { find: (kid) => keys.find((k) => k.kid === kid), keyIds: keys.map((k) => k.kid), issuers, unknownKey: (kid) => void unknown.push(kid), unknown };
}

function signer(key: PrivateSigningKey): SigningKeySource {
  return { current: key, find: (kid) => (kid === key.kid ? key : undefined), keyIds: [key.kid], issuers: [] };
}

describe('EdDSA and ES256 tokens', () => {
  const ed = generateSigningKey('EdDSA');
  const es = generateSigningKey('ES256');
  const base: AuthModuleOptions = { issuer: 'orchestrator', allowedIssuers: ['orchestrator', 'mahavishnu'], audiences: ['session-buddy'] };
  const remote = (keys: PublicSigningKey[], extra: Partial<AuthModuleOptions> = {}) => {
    const keySource = source(
      keys.map((k) => ({ kid: k.kid, alg: k.alg, publicKey: k.publicKey, issuer: 'orchestrator' })),
      ['orchestrator'],
    );
    return { keySource, verifier: new TokenVerifierService(resolveAuthOptions({ ...base, publicKeys: keySource, ...extra })) };
  };
  const mint = (key: PrivateSigningKey, claims: Record<string, unknown> = {}) =>
    new TokenIssuerService(resolveAuthOptions({ ...base, signingKeys: signer(key) }), new JwtService({})).mint({
      subject: 'alice',
      audience: 'session-buddy',
      scopes: ['read'],
      ...claims,
    });
  const handCrafted = (header: Record<string, unknown>, claims: Record<string, unknown>, key: PrivateSigningKey) => {
    const input = `${b64(header)}.${b64(claims)}`;
    return `${input}.${signJwsInput(input, key).toString('base64url')}`;
  };
  const reason = (verifier: TokenVerifierService, token: string): string => {
    try {
      verifier.verify(token);
      return 'accepted';
    } catch (error) {
      if (error instanceof AuthError) return `${error.reason}: ${error.detail ?? ''}`;
      throw error;
    }
  };

  it.each([
    ['EdDSA', ed],
    ['ES256', es],
  ] as const)('a %s token from the signing key set verifies with only the public keys', (_alg, key) => {
    const { verifier } = remote([ed, es]);
    const principal = verifier.verify(mint(key).token);
    expect(principal).toMatchObject({ subject: 'alice', issuer: 'orchestrator', scopes: ['read'] });
  });

  const headerOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()) as Record<string, unknown>;
  const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;

  it('the header names the algorithm, the RFC 9068 type and the key id, nothing else', () => {
    expect(headerOf(mint(ed).token)).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: ed.kid });
  });

  it('signs under the RFC 9864 name Ed25519 when configured, and publishes the key under it', () => {
    const options = resolveAuthOptions({ ...base, signingKeys: signer(ed), ed25519AlgorithmName: 'Ed25519' });
    const token = new TokenIssuerService(options, new JwtService({})).mint({ subject: 'alice', audience: 'session-buddy', scopes: ['read'] }).token;
    expect(headerOf(token)).toEqual({ alg: 'Ed25519', typ: 'at+jwt', kid: ed.kid });
    expect(publicJwkOf(ed, 'Ed25519')).toMatchObject({ alg: 'Ed25519', kty: 'OKP', crv: 'Ed25519' });
    expect(publicJwkOf(es, 'Ed25519')).toMatchObject({ alg: 'ES256' });
    expect(remote([ed]).verifier.verify(token)).toMatchObject({ subject: 'alice' });
  });

  it('accepts both Ed25519 names for an Ed25519 key, and neither for a P-256 key', () => {
    const { verifier } = remote([ed, es]);
    for (const alg of ['EdDSA', 'Ed25519'])
      expect(reason(verifier, handCrafted({ alg, typ: 'at+jwt', kid: ed.kid }, accessClaims({ iss: 'orchestrator', aud: 'session-buddy' }), ed))).toBe(
        'accepted',
      );
    for (const alg of ['EdDSA', 'Ed25519'])
      expect(reason(verifier, handCrafted({ alg, kid: es.kid }, accessClaims({ iss: 'orchestrator', aud: 'session-buddy' }), es))).toMatch(
        /^bad_signature: key .* verifies ES256/,
      );
    expect(reason(verifier, handCrafted({ alg: 'ES256', kid: ed.kid }, accessClaims({ iss: 'orchestrator', aud: 'session-buddy' }), ed))).toMatch(
      /^bad_signature: key .* verifies EdDSA, not ES256/,
    );
    expect(reason(verifier, handCrafted({ alg: 'Ed448', kid: ed.kid }, accessClaims({ iss: 'orchestrator', aud: 'session-buddy' }), ed))).toMatch(
      /^bad_signature: algorithm "Ed448" is not allowed/,
    );
  });

  it('carries RFC 9068 client_id: the subject for its own grant, the acting service for a delegated one, or as given', () => {
    expect(payloadOf(mint(ed).token)).toMatchObject({ sub: 'alice', client_id: 'alice', scope: 'read', type: 'access' });
    expect(payloadOf(mint(ed, { actor: ['reporter', 'orchestrator'] }).token)).toMatchObject({
      sub: 'alice',
      client_id: 'reporter',
      act: { sub: 'reporter', act: { sub: 'orchestrator' } },
    });
    expect(payloadOf(mint(ed, { clientId: 'nightly-report' }).token)).toMatchObject({ client_id: 'nightly-report' });
  });

  it('takes an RFC 9068 token that says what it is only in its header, and refuses other JWT types', () => {
    const { verifier } = remote([ed]);
    const { type: _type, ...bare } = accessClaims({ iss: 'orchestrator', aud: 'session-buddy' }) as Record<string, unknown>;
    expect(reason(verifier, handCrafted({ alg: 'EdDSA', typ: 'at+jwt', kid: ed.kid }, bare, ed))).toBe('accepted');
    expect(reason(verifier, handCrafted({ alg: 'EdDSA', typ: 'application/at+JWT', kid: ed.kid }, bare, ed))).toBe('accepted');
    expect(reason(verifier, handCrafted({ alg: 'EdDSA', typ: 'JWT', kid: ed.kid }, bare, ed))).toMatch(/^wrong_type/);
    for (const typ of ['id+jwt', 'oauth-id-jag+jwt', 'secevent+jwt', 'dpop+jwt']) {
      expect(reason(verifier, handCrafted({ alg: 'EdDSA', typ, kid: ed.kid }, accessClaims({ iss: 'orchestrator', aud: 'session-buddy' }), ed))).toMatch(
        /^malformed: typ header/,
      );
    }
  });

  it('a verifier with public keys only cannot mint', () => {
    const options = resolveAuthOptions({ ...base, publicKeys: source([ed]) });
    expect(() => new TokenIssuerService(options, new JwtService({})).mint({ subject: 'x', audience: 'session-buddy', scopes: [] })).toThrow(
      /holds no signing key/,
    );
  });

  const claims = accessClaims({ iss: 'orchestrator', aud: 'session-buddy', scope: 'read admin' });
  const publicBytes = ed.publicKey.export({ format: 'pem', type: 'spki' });
  const rejections: Array<[string, () => string, RegExp]> = [
    [
      'HS256 made with the public key bytes (algorithm confusion)',
      () => {
        const input = `${b64({ alg: 'HS256', kid: ed.kid })}.${b64(claims)}`;
        return `${input}.${createHmac('sha256', publicBytes).update(input).digest('base64url')}`;
      },
      /^bad_signature: HS256 is not accepted here/,
    ],
    ['alg none', () => `${b64({ alg: 'none', kid: ed.kid })}.${b64(claims)}.`, /^malformed|^bad_signature/],
    ['RS256', () => handCrafted({ alg: 'RS256', kid: ed.kid }, claims, ed), /^bad_signature: algorithm "RS256"/],
    ['EdDSA header on the ES256 key', () => handCrafted({ alg: 'EdDSA', kid: es.kid }, claims, ed), /^bad_signature: key .* verifies ES256, not EdDSA/],
    [
      'a key of its own in the jwk header',
      () => handCrafted({ alg: 'EdDSA', kid: ed.kid, jwk: publicJwkOf(ed) }, claims, ed),
      /^bad_signature: the jwk header is not accepted/,
    ],
    [
      'a jku pointing elsewhere',
      () => handCrafted({ alg: 'EdDSA', kid: ed.kid, jku: 'https://evil.example/jwks' }, claims, ed),
      /^bad_signature: the jku header/,
    ],
    ['an x5u header', () => handCrafted({ alg: 'EdDSA', kid: ed.kid, x5u: 'https://evil.example/cert' }, claims, ed), /^bad_signature: the x5u header/],
    ['kid injection (a path)', () => handCrafted({ alg: 'EdDSA', kid: '../../../dev/null' }, claims, ed), /^malformed: kid is not a plain key id/],
    ['kid injection (SQL)', () => handCrafted({ alg: 'EdDSA', kid: "x' OR '1'='1" }, claims, ed), /^malformed: kid is not a plain key id/],
    ['no kid', () => handCrafted({ alg: 'EdDSA' }, claims, ed), /^malformed: kid is required/],
    [
      'a key that is not published',
      () => handCrafted({ alg: 'EdDSA', kid: generateSigningKey('EdDSA').kid }, claims, generateSigningKey('EdDSA')),
      /^unknown_key/,
    ],
    [
      'a forged signature (another key, published kid)',
      () => handCrafted({ alg: 'EdDSA', kid: ed.kid }, claims, generateSigningKey('EdDSA')),
      /^bad_signature: EdDSA signature does not verify/,
    ],
    [
      'ES256 with a DER signature',
      () => {
        const input = `${b64({ alg: 'ES256', kid: es.kid })}.${b64(claims)}`;
        return `${input}.${sign('sha256', Buffer.from(input), es.privateKey).toString('base64url')}`;
      },
      /^bad_signature/,
    ],
    [
      'a payload changed after signing',
      () => {
        const [h, , s] = handCrafted({ alg: 'EdDSA', kid: ed.kid }, claims, ed).split('.');
        return `${h}.${b64({ ...claims, scope: 'admin' })}.${s}`;
      },
      /^bad_signature/,
    ],
    ['a crit header', () => handCrafted({ alg: 'EdDSA', kid: ed.kid, crit: ['exp'] }, claims, ed), /^malformed: crit/],
    [
      "another issuer claimed with this issuer's key",
      () => handCrafted({ alg: 'EdDSA', kid: ed.kid }, { ...claims, iss: 'mahavishnu' }, ed),
      /^wrong_issuer: key .* belongs to issuer orchestrator/,
    ],
  ];

  it.each(rejections)('refuses %s', (_name, make, expected) => {
    expect(reason(remote([ed, es]).verifier, make())).toMatch(expected);
  });

  it('refuses an HS256 token naming a public-key issuer even when a shared secret is also configured', () => {
    const secret = randomSecret();
    const { verifier } = remote([ed], { secret });
    const hs = new TokenIssuerService(resolveAuthOptions({ ...base, secret }), new JwtService({})).mint({
      subject: 'alice',
      audience: 'session-buddy',
      scopes: ['admin'],
    }).token;
    expect(reason(verifier, hs)).toMatch(/^wrong_issuer: issuer orchestrator signs with public keys/);
    // The same secret still serves an issuer that has no JWKS.
    const other = new TokenIssuerService(resolveAuthOptions({ ...base, secret, issuer: 'mahavishnu' }), new JwtService({})).mint({
      subject: 'alice',
      audience: 'session-buddy',
      scopes: ['read'],
    }).token;
    expect(reason(verifier, other)).toBe('accepted');
  });

  it('tells the key source about an unknown kid, and never about an injected one', () => {
    const { verifier, keySource } = remote([ed]);
    const stranger = generateSigningKey('EdDSA');
    reason(verifier, handCrafted({ alg: 'EdDSA', kid: stranger.kid }, claims, stranger));
    reason(verifier, handCrafted({ alg: 'EdDSA', kid: 'a/b' }, claims, stranger));
    expect(keySource.unknown).toEqual([stranger.kid]);
  });

  it('refuses options that both verify another issuer and sign', () => {
    expect(() => resolveAuthOptions({ ...base, publicKeys: source([ed]), signingKeys: signer(ed) })).toThrow(/not both/);
  });
});

describe('privateSigningKeyFromText', () => {
  it.each(['EdDSA', 'ES256'] as const)('reads an %s key from PKCS#8 PEM and from a JWK, to the same kid', (alg) => {
    const key = generateSigningKey(alg);
    const fromPem = privateSigningKeyFromText(key.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
    const fromJwk = privateSigningKeyFromText(JSON.stringify(key.privateKey.export({ format: 'jwk' })));
    expect([fromPem.alg, fromPem.kid, fromJwk.kid]).toEqual([alg, key.kid, key.kid]);
  });

  it.each([
    ['a public key', () => generateSigningKey('EdDSA').publicKey.export({ format: 'pem', type: 'spki' }) as string, /not a private key/],
    ['junk', () => 'hello', /not a private key/],
    [
      'a P-384 key',
      () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
      /Ed25519 \(EdDSA\) or P-256/,
    ],
  ])('refuses %s without echoing it', (_name, make, expected) => {
    const text = make();
    expect(() => privateSigningKeyFromText(text)).toThrow(expected);
    try {
      privateSigningKeyFromText(text);
    } catch (error) {
      expect((error as Error).message).not.toContain(text.slice(0, 40));
    }
  });
});
