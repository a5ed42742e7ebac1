import { createHash, timingSafeEqual } from 'node:crypto';

/** RFC 7636 §4.1: 43-128 characters of the unreserved set. The same syntax holds for an S256 challenge's input. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
/** An S256 challenge is base64url(SHA-256), 43 characters without padding. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Why an authorization request's PKCE parameters are refused, or undefined.
 * OAuth 2.1 and the MCP authorization rules make PKCE mandatory, and only
 * `S256` is accepted: `plain` sends the verifier itself through the browser.
 */
export function pkceChallengeProblem(challenge: string | undefined, method: string | undefined): string | undefined {
  if (challenge === undefined) return 'code_challenge is required (PKCE, S256)';
  if (method === undefined) return 'code_challenge_method is required and must be S256';
  if (method !== 'S256') return `code_challenge_method ${method} is not accepted; use S256`;
  if (!S256_CHALLENGE.test(challenge)) return 'code_challenge is not a base64url SHA-256 (43 characters)';
  return undefined;
}

/** The S256 challenge of a verifier: base64url(SHA-256(ASCII(verifier))). */
export function pkceS256Challenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** Constant-time: whether `verifier` is well formed and is the one behind the S256 `challenge`. */
export function pkceVerifierMatches(verifier: string | undefined, challenge: string): boolean {
  if (verifier === undefined || !VERIFIER.test(verifier) || !S256_CHALLENGE.test(challenge)) return false;
  return timingSafeEqual(Buffer.from(pkceS256Challenge(verifier)), Buffer.from(challenge));
}
