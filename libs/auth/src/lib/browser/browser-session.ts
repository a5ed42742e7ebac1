import { createHmac, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { KeyRing } from '../keys/key-ring';

const SESSION_INFO = 'crossauth/browser-session/v1';
const CSRF_INFO = 'crossauth/browser-csrf/v1';
const NAME = /^[a-z0-9][a-z0-9._@+-]{0,63}$/;

/** Who signed in on this browser, and when; all instances sharing the secret read it the same way. */
export interface BrowserSession {
  readonly username: string;
  /** Seconds since the epoch. */
  readonly issuedAt: number;
  readonly expiresAt: number;
}

const derived = new WeakMap<KeyObject, { session: Buffer; csrf: Buffer }>();

/** The keys cookies are signed under, derived from a service secret with labels of their own (so they can sign nothing else). */
function keysOf(secret: KeyObject): { session: Buffer; csrf: Buffer } {
  let keys = derived.get(secret);
  if (!keys) {
    keys = {
      session: Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), SESSION_INFO, 32)),
      csrf: Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), CSRF_INFO, 32)),
    };
    derived.set(secret, keys);
  }
  return keys;
}

const mac = (key: Buffer, text: string) => createHmac('sha256', key).update(text, 'utf8').digest('base64url');

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A session cookie value: `v1.<kid>.<username>.<iat>.<exp>.<mac>`, signed with the ring's current key. */
export function signBrowserSession(ring: KeyRing, session: BrowserSession): string {
  const body = `v1.${ring.current.kid}.${session.username}.${session.issuedAt}.${session.expiresAt}`;
  return `${body}.${mac(keysOf(ring.current.key).session, body)}`;
}

/** The session a cookie proves, or undefined when it is malformed, forged, signed by a retired key, or expired. */
export function verifyBrowserSession(ring: KeyRing, cookie: string | undefined, nowSeconds: number): BrowserSession | undefined {
  if (cookie === undefined || cookie.length > 256) return undefined;
  const parts = cookie.split('.');
  if (parts.length < 6 || parts[0] !== 'v1') return undefined;
  // A username may itself hold dots (alice@acme.example): it is everything between the key id and the times.
  const [kid, iat, exp, signature] = [parts[1], ...parts.slice(-3)] as [string, string, string, string];
  const username = parts.slice(2, -3).join('.');
  const key = ring.find(kid);
  if (!key || !NAME.test(username) || !/^\d{1,12}$/.test(iat) || !/^\d{1,12}$/.test(exp)) return undefined;
  if (!sameText(signature, mac(keysOf(key.key).session, parts.slice(0, -1).join('.')))) return undefined;
  const session = { username, issuedAt: Number(iat), expiresAt: Number(exp) };
  return nowSeconds < session.expiresAt ? session : undefined;
}

/** The CSRF token of a form, bound to the cookie it travels with (a session, or a pre-login nonce). */
export function csrfTokenFor(ring: KeyRing, boundTo: string): string {
  return mac(keysOf(ring.current.key).csrf, boundTo);
}

/** Constant-time: whether `token` is the CSRF token for `boundTo` under any key of the ring. */
export function csrfTokenMatches(ring: KeyRing, boundTo: string | undefined, token: string | undefined): boolean {
  if (!boundTo || !token || token.length !== 43) return false;
  return ring.all.some((k) => sameText(token, mac(keysOf(k.key).csrf, boundTo)));
}
