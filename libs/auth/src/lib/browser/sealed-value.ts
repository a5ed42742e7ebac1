import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import type { KeyRing } from '../keys/key-ring';

const PURPOSE = /^[a-z][a-z0-9-]{0,31}$/;
const MAX_SEALED = 4096;
const derived = new WeakMap<KeyObject, Map<string, Buffer>>();

/** The AES-256-GCM key for one purpose, derived from a service secret under a label of its own. */
function keyOf(secret: KeyObject, purpose: string): Buffer {
  let byPurpose = derived.get(secret);
  if (!byPurpose) derived.set(secret, (byPurpose = new Map()));
  let key = byPurpose.get(purpose);
  if (!key) byPurpose.set(purpose, (key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `crossauth/sealed/${purpose}/v1`, 32))));
  return key;
}

/**
 * Encrypts and authenticates `value` for a browser to carry back
 * (`v1.<kid>.<iv>.<ciphertext>.<tag>`, AES-256-GCM, the purpose and expiry
 * bound in): what it holds stays unreadable and unchangeable on the way, and a
 * value sealed for one purpose never opens as another. `iv` is for test
 * vectors only.
 */
export function sealValue(ring: KeyRing, purpose: string, value: string, expiresAt: number, iv: Buffer = randomBytes(12)): string {
  if (!PURPOSE.test(purpose)) throw new Error('sealValue: purpose must be a short lower-case label');
  const header = `v1.${ring.current.kid}`;
  const cipher = createCipheriv('aes-256-gcm', keyOf(ring.current.key, purpose), iv);
  cipher.setAAD(Buffer.from(`${header}.${purpose}`));
  const body = Buffer.concat([cipher.update(JSON.stringify({ e: expiresAt, v: value }), 'utf8'), cipher.final()]);
  return `${header}.${iv.toString('base64url')}.${body.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
}

/** The value {@link sealValue} sealed for `purpose`, or undefined when it is malformed, tampered with, sealed under a retired key, or expired. */
export function openSealedValue(ring: KeyRing, purpose: string, sealed: string | undefined, nowSeconds: number): string | undefined {
  if (!sealed || sealed.length > MAX_SEALED || !PURPOSE.test(purpose)) return undefined;
  const parts = sealed.split('.');
  if (parts.length !== 5 || parts[0] !== 'v1') return undefined;
  const [, kid, iv, body, tag] = parts as [string, string, string, string, string];
  const key = ring.find(kid);
  if (!key) return undefined;
  const nonce = Buffer.from(iv, 'base64url');
  if (nonce.length !== 12) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(key.key, purpose), nonce, { authTagLength: 16 });
    decipher.setAAD(Buffer.from(`v1.${kid}.${purpose}`));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    const { e, v } = JSON.parse(plain) as { e?: unknown; v?: unknown };
    return typeof e === 'number' && typeof v === 'string' && nowSeconds < e ? v : undefined;
  } catch {
    return undefined;
  }
}
