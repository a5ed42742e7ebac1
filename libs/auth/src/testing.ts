/**
 * Test helpers: craft tokens byte by byte, including deliberately broken ones
 * (`alg: none`, foreign algorithms, tampered payloads). Never import from
 * production code.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { deriveKeyId } from './lib/keys/key-ring';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Signs arbitrary header and claims with HS256 (or leaves the signature empty for `alg: none`). */
export function craftToken(claims: Record<string, unknown>, secret: string, header: Record<string, unknown> = {}): string {
  const fullHeader = { alg: 'HS256', typ: 'JWT', kid: deriveKeyId(secret), ...header };
  const input = `${b64(fullHeader)}.${b64(claims)}`;
  if (fullHeader.alg === 'none') return `${input}.`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** A random secret that passes the policy. */
export function randomSecret(): string {
  return randomBytes(36).toString('base64url');
}

/** Claims for a valid access token, overridable field by field. */
export function accessClaims(overrides: Record<string, unknown> = {}, nowSeconds = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  return {
    sub: 'alice',
    iss: 'orchestrator',
    aud: 'session-buddy',
    iat: nowSeconds,
    exp: nowSeconds + 300,
    jti: randomBytes(8).toString('hex'),
    type: 'access',
    scope: 'read write',
    ...overrides,
  };
}

/** A CA made for a test and a certificate it signed for 127.0.0.1 (and localhost), for HTTPS servers tests run on loopback. */
export async function loopbackCertificate(): Promise<{ readonly caCert: string; readonly cert: string; readonly key: string }> {
  const { generate } = await import('selfsigned');
  const ca = await generate([{ name: 'commonName', value: 'crossauth test CA' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  return { caCert: ca.cert, cert: leaf.cert, key: leaf.private };
}

/** Key types a {@link testIssuer} signs with; RSA sizes let a test publish a key too short to trust. */
export type TestIssuerKey = { readonly alg: 'RS256' | 'PS256'; readonly bits?: number } | { readonly alg: 'ES256' | 'EdDSA' };

/**
 * An outside issuer for tests: a real HTTP server on loopback publishing
 * OpenID discovery, RFC 8414 metadata and a JWKS, and a signer for its keys.
 * Not for production: it signs whatever it is asked to.
 */
export async function testIssuer(keys: readonly TestIssuerKey[] = [{ alg: 'RS256' }]): Promise<{
  readonly issuer: string;
  readonly jwksUri: string;
  readonly kids: readonly string[];
  sign(claims: Record<string, unknown>, options?: { readonly kid?: string; readonly header?: Record<string, unknown> }): string;
  readonly requests: { jwks: number };
  close(): Promise<void>;
}> {
  const { createServer } = await import('node:http');
  const { generateKeyPairSync, sign, constants, createHash } = await import('node:crypto');
  const made = keys.map((k, i) => {
    const pair =
      k.alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : k.alg === 'ES256'
          ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
          : generateKeyPairSync('rsa', { modulusLength: ('bits' in k ? k.bits : undefined) ?? 2048 });
    const jwk = pair.publicKey.export({ format: 'jwk' });
    const kid = `k${i}-${createHash('sha256').update(JSON.stringify(jwk)).digest('base64url').slice(0, 12)}`;
    return { alg: k.alg, kid, privateKey: pair.privateKey, jwk: { ...jwk, kid, alg: k.alg, use: 'sig' } };
  });
  const requests = { jwks: 0 };
  let base = '';
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/jwks.json') {
      requests.jwks++;
      return json({ keys: made.map((m) => m.jwk) });
    }
    if (path === '/.well-known/openid-configuration' || path === '/.well-known/oauth-authorization-server')
      return json({ issuer: base, jwks_uri: `${base}/jwks.json`, token_endpoint: `${base}/token` });
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    issuer: base,
    jwksUri: `${base}/jwks.json`,
    kids: made.map((m) => m.kid),
    requests,
    sign(claims, options = {}) {
      const key = made.find((m) => m.kid === (options.kid ?? made[0]?.kid)) ?? made[0];
      if (!key) throw new Error('no key');
      const header = Buffer.from(JSON.stringify({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...options.header })).toString('base64url');
      const input = `${header}.${Buffer.from(JSON.stringify({ iss: base, ...claims })).toString('base64url')}`;
      const data = Buffer.from(input);
      const signature =
        key.alg === 'EdDSA'
          ? sign(null, data, key.privateKey)
          : key.alg === 'ES256'
            ? sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
            : key.alg === 'PS256'
              ? sign('sha256', data, { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
              : sign('sha256', data, key.privateKey);
      return `${input}.${signature.toString('base64url')}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
