import { createHmac, generateKeyPairSync, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { generateSigningKey } from '../keys/asymmetric-key';
import { ClientAssertionError, assertPublicJwks, createClientAssertion, verifyClientAssertion, type ClientAssertionPolicy } from './client-assertion';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const now = 1_800_000_000;
const endpoint = 'https://as.example/oauth/token';

function keyPair(kind: 'ec' | 'ed25519' | 'rsa', kid: string): { privateKey: KeyObject; jwk: JsonWebKey } {
  const { privateKey, publicKey } =
    kind === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : kind === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519');
  return { privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid } };
}
const ec = keyPair('ec', 'ec-1');
const ed = keyPair('ed25519', 'ed-1');
const rsa = keyPair('rsa', 'rsa-1');
const jwks = { keys: [ec.jwk, ed.jwk, rsa.jwk] };

function assertion(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key: KeyObject = ec.privateKey): string {
  const h = { alg: 'ES256', kid: 'ec-1', typ: 'JWT', ...header };
  const input = `${b64(h)}.${b64({ iss: 'robot', sub: 'robot', aud: endpoint, exp: now + 60, iat: now, jti: 'j-1', ...claims })}`;
  const alg = h.alg;
  const signature =
    alg === 'EdDSA'
      ? sign(null, Buffer.from(input), key)
      : alg === 'RS256'
        ? sign('sha256', Buffer.from(input), key)
        : sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

const publicKeyBytes = Buffer.from(JSON.stringify(ec.jwk));
const policy: ClientAssertionPolicy = {
  clientId: 'robot',
  jwks,
  audiences: [endpoint, 'https://as.example'],
  nowSeconds: now,
  clockSkewSeconds: 30,
  maxLifetimeSeconds: 330,
};
const refusal = (token: string, p: ClientAssertionPolicy = policy): string => {
  try {
    verifyClientAssertion(token, p);
  } catch (error) {
    if (error instanceof ClientAssertionError) return error.message;
    throw error;
  }
  return 'accepted';
};

describe('verifyClientAssertion (RFC 7523 private_key_jwt)', () => {
  it.each([
    ['ES256', {}, ec.privateKey],
    ['EdDSA', { alg: 'EdDSA', kid: 'ed-1' }, ed.privateKey],
    ['RS256', { alg: 'RS256', kid: 'rsa-1' }, rsa.privateKey],
    ['no kid (the key is found by its algorithm)', { kid: undefined }, ec.privateKey],
  ])('accepts %s signed by a registered key, returning jti and exp', (_n, header, key) => {
    expect(verifyClientAssertion(assertion({}, header, key), policy)).toEqual({ jti: 'j-1', exp: now + 60 });
  });

  it('accepts the issuer identifier as audience too', () => {
    expect(refusal(assertion({ aud: ['https://as.example'] }))).toBe('accepted');
  });

  it.each([
    [
      'HS256 keyed with the public key (algorithm confusion)',
      () => {
        const input = `${b64({ alg: 'HS256', kid: 'ec-1' })}.${b64({ iss: 'robot', sub: 'robot', aud: endpoint, exp: now + 60, jti: 'x' })}`;
        return `${input}.${createHmac('sha256', publicKeyBytes).update(input).digest('base64url')}`;
      },
      /alg must be/,
    ],
    ['alg none', () => `${b64({ alg: 'none' })}.${b64({ iss: 'robot', sub: 'robot', aud: endpoint, exp: now + 60, jti: 'x' })}.`, /alg must be/],
    ['a key in the jwk header', () => assertion({}, { jwk: ec.jwk }), /jwk header is not accepted/],
    ['a jku header', () => assertion({}, { jku: 'https://evil.example/jwks' }), /jku header is not accepted/],
    ['an unknown kid', () => assertion({}, { kid: 'nope' }), /kid names no registered key/],
    ['an EdDSA header on the EC key', () => assertion({}, { alg: 'EdDSA' }), /kid names no registered key/],
    ['a signature by an unregistered key', () => assertion({}, {}, keyPair('ec', 'ec-1').privateKey), /does not verify/],
    [
      'a tampered payload',
      () => {
        const [h, , s] = assertion().split('.');
        return `${h}.${b64({ iss: 'robot', sub: 'robot', aud: endpoint, exp: now + 60, jti: 'other' })}.${s}`;
      },
      /does not verify/,
    ],
    ['an iss other than the client', () => assertion({ iss: 'mallory' }), /iss and sub/],
    ['a sub other than the client', () => assertion({ sub: 'mallory' }), /iss and sub/],
    ['another audience', () => assertion({ aud: 'https://other.example/token' }), /aud must be/],
    ['no exp', () => assertion({ exp: undefined }), /exp is required/],
    ['an expired assertion', () => assertion({ exp: now - 31 }), /expired/],
    ['an exp too far ahead', () => assertion({ exp: now + 3600 }), /more than 330s ahead/],
    ['no jti', () => assertion({ jti: undefined }), /jti is required/],
    ['an iat in the future', () => assertion({ iat: now + 120 }), /iat is in the future/],
    ['four segments', () => `${assertion()}.x`, /not a compact JWS/],
    [
      'a DER-encoded ES256 signature',
      () => {
        const [h, p] = assertion().split('.');
        return `${h}.${p}.${sign('sha256', Buffer.from(`${h}.${p}`), ec.privateKey).toString('base64url')}`;
      },
      /does not verify/,
    ],
  ])('refuses %s', (_n, make, message) => {
    expect(refusal(make())).toMatch(message);
  });

  it('refuses an HMAC made with the public key bytes even when the header claims ES256', () => {
    const input = `${b64({ alg: 'ES256', kid: 'ec-1' })}.${b64({ iss: 'robot', sub: 'robot', aud: endpoint, exp: now + 60, jti: 'x' })}`;
    expect(refusal(`${input}.${createHmac('sha256', publicKeyBytes).update(input).digest('base64url')}`)).toMatch(/does not verify/);
  });
});

describe('assertPublicJwks (registration)', () => {
  it('accepts public EC, Ed25519 and RSA keys', () => {
    expect(assertPublicJwks(jwks).keys).toHaveLength(3);
  });

  it.each([
    ['a private key', { keys: [{ ...ec.jwk, ...ec.privateKey.export({ format: 'jwk' }) }] }, /public keys only/],
    ['a symmetric key', { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }, /public keys only/],
    ['no keys', { keys: [] }, /1-10 keys/],
    ['not a key set', { hello: 1 }, /1-10 keys/],
    ['a P-384 key', { keys: [generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' })] }, /unsupported key type/],
    ['an alg that does not match the key', { keys: [{ ...ec.jwk, alg: 'RS256' }] }, /does not match/],
    ['two keys with one kid', { keys: [ec.jwk, { ...ed.jwk, kid: 'ec-1' }] }, /duplicate kid/],
  ])('refuses %s', (_n, value, message) => {
    expect(() => assertPublicJwks(value)).toThrow(message);
  });
});

describe('createClientAssertion', () => {
  it.each(['EdDSA', 'ES256'] as const)('makes an %s assertion the verifier accepts against the registered public key', (alg) => {
    const key = generateSigningKey(alg);
    const registered = { keys: [{ ...key.publicKey.export({ format: 'jwk' }), kid: 'registered-under-another-name' }] };
    const made = createClientAssertion('robot', endpoint, key, now);
    expect(verifyClientAssertion(made, { ...policy, jwks: registered })).toEqual({ jti: expect.any(String), exp: now + 60 });
    expect(createClientAssertion('robot', endpoint, key, now)).not.toBe(made);
  });

  it('is refused when signed by a key that is not registered', () => {
    const made = createClientAssertion('robot', endpoint, generateSigningKey('EdDSA'), now);
    expect(refusal(made)).toMatch(/does not verify/);
  });
});
