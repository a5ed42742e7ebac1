import { AuthError } from '../auth.errors';
import { sha256 } from '../crypto/sha256';

/** The parts of an incoming HTTP request that carry credentials. */
export interface CredentialSource {
  readonly headers: Record<string, string | string[] | undefined>;
  /**
   * The headers as received (Node's `IncomingMessage.rawHeaders`). Node keeps
   * only the first of repeated `Authorization` headers in `headers`, so
   * ambiguity is only visible here.
   */
  readonly rawHeaders?: readonly string[];
  readonly url?: string;
}

const BEARER = /^bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i;

/**
 * The bearer token from `Authorization` (RFC 6750 §2.1; the scheme is
 * case-insensitive), or undefined when there is none. Tokens in the query
 * string (§2.3) are refused outright: they end up in logs and Referer headers,
 * and the MCP spec forbids them.
 */
export function extractBearerToken(source: CredentialSource): string | undefined {
  if (source.url && /[?&](access_token|token)=/i.test(source.url)) {
    throw new AuthError('malformed', 'tokens in the query string are refused; use the Authorization header');
  }
  const header = source.headers['authorization'];
  if (header === undefined) return undefined;
  // Two credentials are ambiguous: a proxy and the server may each pick a different one.
  if (Array.isArray(header) || (source.rawHeaders !== undefined && countAuthorization(source.rawHeaders) > 1)) {
    throw new AuthError('malformed', 'more than one Authorization header');
  }
  if (!/^bearer\b/i.test(header.trim())) return undefined;
  const match = BEARER.exec(header);
  if (!match?.[1]) throw new AuthError('malformed', 'Authorization header is not "Bearer <token>"');
  return match[1];
}

function countAuthorization(raw: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 13 && name.toLowerCase() === 'authorization') count++;
  }
  return count;
}

/** A short stable digest of a token for comparisons and correlation; not reversible. */
export function tokenDigest(token: string): string {
  return sha256(token, 'base64url');
}
