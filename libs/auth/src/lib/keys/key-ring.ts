import { createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';

const KID_LABEL = 'crossauth/kid/v1';
const REQUEST_SIGNING_INFO = 'crossauth/request-signing/v1';
const KID_BYTES = 12;

/**
 * The public fingerprint of a secret: base64url(HMAC-SHA256(secret, "crossauth/kid/v1"))
 * truncated to 12 bytes (16 characters). Two services share a secret exactly when
 * their key ids match; the id reveals nothing usable about the secret.
 */
export function deriveKeyId(secret: string | Buffer): string {
  return createHmac('sha256', secret).update(KID_LABEL).digest().subarray(0, KID_BYTES).toString('base64url');
}

/**
 * The request-signing key for a JWT secret: HKDF-SHA256 with its own label, so a
 * leaked request-signing key cannot mint tokens and vice versa.
 */
export function deriveRequestSigningKey(secret: string | Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), REQUEST_SIGNING_INFO, 32));
}

/** One configured secret, held as a KeyObject (the fast path for HMAC and jsonwebtoken). */
export interface ManagedKey {
  readonly kid: string;
  readonly key: KeyObject;
  /** HKDF-derived key for RFC 9421 request signatures. */
  readonly requestSigningKey: KeyObject;
  readonly current: boolean;
}

/**
 * The current signing secret plus any previous ones still accepted for
 * verification. Signing always uses the current key; verification accepts all,
 * which is what makes rotation zero-downtime.
 */
export class KeyRing {
  private readonly byKid = new Map<string, ManagedKey>();
  readonly current: ManagedKey;
  readonly all: readonly ManagedKey[];

  constructor(currentSecret: string, previousSecrets: readonly string[] = []) {
    const make = (secret: string, current: boolean): ManagedKey => ({
      kid: deriveKeyId(secret),
      key: createSecretKey(Buffer.from(secret, 'utf8')),
      requestSigningKey: createSecretKey(deriveRequestSigningKey(secret)),
      current,
    });
    this.current = make(currentSecret, true);
    const keys = [this.current];
    for (const previous of previousSecrets) {
      const managed = make(previous, false);
      if (managed.kid !== this.current.kid && !this.byKid.has(managed.kid)) keys.push(managed);
      this.byKid.set(managed.kid, managed);
    }
    this.byKid.set(this.current.kid, this.current);
    this.all = keys;
  }

  /** The key with this id, or undefined when no configured secret produces it. */
  find(kid: string): ManagedKey | undefined {
    return this.byKid.get(kid);
  }

  get keyIds(): string[] {
    return this.all.map((k) => k.kid);
  }
}
