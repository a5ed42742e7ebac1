import { constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';

/** Asymmetric JWS algorithms crossauth signs access tokens with (RFC 8037 EdDSA/Ed25519, RFC 7518 ES256/P-256). */
export const TOKEN_SIGNING_ALGORITHMS = ['EdDSA', 'ES256'] as const;
export type TokenSigningAlgorithm = (typeof TOKEN_SIGNING_ALGORITHMS)[number];

/** Every asymmetric JWS algorithm a public key may verify (client assertions also allow RSA). */
export type AsymmetricAlgorithm = TokenSigningAlgorithm | 'RS256' | 'PS256';

/** A public verification key with its algorithm pinned by its type, never by a token's header. */
export interface PublicSigningKey {
  readonly kid: string;
  readonly alg: AsymmetricAlgorithm;
  readonly publicKey: KeyObject;
  /** The issuer whose JWKS published this key; a token verified with it must name that issuer. */
  readonly issuer?: string;
}

/** A signing key: the private half, and the public half that is published. */
export interface PrivateSigningKey extends PublicSigningKey {
  readonly alg: TokenSigningAlgorithm;
  readonly privateKey: KeyObject;
}

/** The one algorithm a JWK verifies, from its type and curve; undefined for unsupported keys. */
export function algorithmOfJwk(jwk: JsonWebKey): AsymmetricAlgorithm | undefined {
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'RSA') return jwk.alg === 'PS256' ? 'PS256' : 'RS256';
  return undefined;
}

/**
 * RFC 7638 JWK thumbprint (SHA-256, base64url) of a public key: the required
 * members in lexicographic order, no whitespace. Used as `kid`, so a key id
 * names exactly one key and reveals nothing more than the public key does.
 */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const required: Record<string, string[]> = { EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'], RSA: ['e', 'kty', 'n'] };
  const members = required[jwk.kty ?? ''];
  if (!members) throw new Error(`no thumbprint for key type ${String(jwk.kty)}`);
  const canonical = `{${members.map((m) => `${JSON.stringify(m)}:${JSON.stringify((jwk as Record<string, unknown>)[m])}`).join(',')}}`;
  return createHash('sha256').update(canonical).digest('base64url');
}

/** Generates a signing key; its `kid` is the public key's thumbprint. */
export function generateSigningKey(alg: TokenSigningAlgorithm): PrivateSigningKey {
  const { privateKey } = alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return signingKeyFromPrivate(privateKey, alg);
}

/** Wraps a private key, checking that it is of the algorithm's type. */
export function signingKeyFromPrivate(privateKey: KeyObject, alg: TokenSigningAlgorithm): PrivateSigningKey {
  const publicKey = createPublicKey(privateKey);
  const jwk = publicKey.export({ format: 'jwk' });
  if (algorithmOfJwk(jwk) !== alg) throw new Error(`the key is not an ${alg} key`);
  return { kid: jwkThumbprint(jwk), alg, privateKey, publicKey };
}

/** A private key from its JWK form (as kept in a key set file). */
export function signingKeyFromJwk(jwk: JsonWebKey, alg: TokenSigningAlgorithm): PrivateSigningKey {
  return signingKeyFromPrivate(createPrivateKey({ key: jwk, format: 'jwk' }), alg);
}

/** The JWK a JWKS publishes for a key: public members, `kid`, `alg`, `use`. */
export function publicJwkOf(key: PublicSigningKey, ed25519Name: Ed25519AlgorithmName = 'EdDSA'): JsonWebKey {
  const jwk = key.publicKey.export({ format: 'jwk' });
  return { ...jwk, kid: key.kid, alg: jwsAlgorithmName(key.alg, ed25519Name), use: 'sig' };
}

/**
 * The two names an Ed25519 signature goes by: `EdDSA` (RFC 8037), which most
 * verifiers know, and `Ed25519` (RFC 9864, fully specified), which the newer
 * ones prefer. Verification accepts both for an Ed25519 key, and only for one.
 */
export const ED25519_ALGORITHM_NAMES = ['EdDSA', 'Ed25519'] as const;
export type Ed25519AlgorithmName = (typeof ED25519_ALGORITHM_NAMES)[number];

/** The `alg` a token header (and the JWKS) carries for a key of this family. */
export function jwsAlgorithmName(alg: AsymmetricAlgorithm, ed25519Name: Ed25519AlgorithmName): string {
  return alg === 'EdDSA' ? ed25519Name : alg;
}

/** Signs a JWS signing input (`header.payload`) with the key's own algorithm; JWS ES256 is r||s, not DER. */
export function signJwsInput(input: string, key: PrivateSigningKey): Buffer {
  const data = Buffer.from(input, 'ascii');
  return key.alg === 'EdDSA' ? sign(null, data, key.privateKey) : sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
}

/** Verifies a JWS signature with `alg`, the algorithm the key was pinned to. Never throws. */
export function verifyJwsInput(alg: AsymmetricAlgorithm, key: KeyObject, input: Buffer, signature: Buffer): boolean {
  try {
    switch (alg) {
      case 'EdDSA':
        return signature.length === 64 && verify(null, input, key, signature);
      case 'ES256':
        return signature.length === 64 && verify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'RS256':
        return verify('sha256', input, key, signature);
      case 'PS256':
        return verify('sha256', input, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature);
    }
  } catch {
    return false;
  }
}

/**
 * A private signing key from its text: PKCS#8 PEM or a private JWK. The
 * algorithm follows from the key (Ed25519 → EdDSA, P-256 → ES256); anything
 * else is refused. Errors never echo the text.
 */
export function privateSigningKeyFromText(text: string): PrivateSigningKey {
  let key: KeyObject;
  try {
    key = text.trimStart().startsWith('{') ? createPrivateKey({ key: JSON.parse(text) as JsonWebKey, format: 'jwk' }) : createPrivateKey(text);
  } catch {
    throw new Error('not a private key (PKCS#8 PEM or a private JWK)');
  }
  const alg =
    key.asymmetricKeyType === 'ed25519'
      ? 'EdDSA'
      : key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
        ? 'ES256'
        : undefined;
  if (!alg) throw new Error('the key must be Ed25519 (EdDSA) or P-256 (ES256)');
  return signingKeyFromPrivate(key, alg);
}
