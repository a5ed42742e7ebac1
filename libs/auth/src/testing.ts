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
