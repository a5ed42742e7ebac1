import type { PrivateSigningKey, PublicSigningKey } from './asymmetric-key';

/**
 * Where a verifier finds public keys by `kid`: a remote issuer's JWKS
 * ({@link JwksKeySource}) or a signer's own key set.
 */
export interface PublicKeySource {
  /** The key with this id, or undefined. */
  find(kid: string): PublicSigningKey | undefined;
  /** Ids of every key currently accepted. */
  readonly keyIds: readonly string[];
  /**
   * Issuers that sign only with these keys: a token naming one of them that is
   * HS256-signed (with a shared secret, or with a public key's bytes) is refused.
   */
  readonly issuers: readonly string[];
  /** Told of a `kid` it lacks; a remote source may refetch, no more often than its floor allows. */
  unknownKey?(kid: string): void;
}

/** A key set that can also sign: the current key signs, every published key verifies. */
export interface SigningKeySource extends PublicKeySource {
  readonly current: PrivateSigningKey;
}
