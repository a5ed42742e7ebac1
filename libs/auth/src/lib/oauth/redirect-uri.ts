/** Hosts a native app's loopback redirect may use (RFC 8252 §7.3, §8.3: `localhost` is allowed but discouraged). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** A private-use URI scheme (RFC 8252 §7.1): reverse-DNS or a plain app name, never one a browser fetches. */
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+.-]*:$/;
const WEB_SCHEMES = new Set(['http:', 'https:', 'javascript:', 'data:', 'file:', 'blob:', 'about:', 'ftp:', 'ws:', 'wss:']);

/** Why a redirect URI cannot be registered, or undefined. */
export function redirectUriProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `redirect_uri ${JSON.stringify(uri.slice(0, 200))} is not an absolute URI`;
  }
  if (url.hash !== '' || uri.includes('#')) return 'a redirect_uri may not have a fragment (RFC 6749 §3.1.2)';
  if (url.username || url.password) return 'a redirect_uri may not carry credentials';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:')
    return LOOPBACK_HOSTS.has(url.hostname) ? undefined : 'an http redirect_uri must be a loopback address (127.0.0.1, [::1] or localhost)';
  if (WEB_SCHEMES.has(url.protocol) || !PRIVATE_USE_SCHEME.test(url.protocol)) return `redirect_uri scheme ${url.protocol} is not accepted`;
  return undefined;
}

/** True for an http URL on a loopback host, whose port the client picks at run time. */
function isLoopback(url: URL): boolean {
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

/**
 * Whether `presented` is one of the `registered` redirect URIs. The match is
 * exact, string for string (RFC 9700 §4.1.3), except that a loopback
 * redirect may use any port (RFC 8252 §7.3); its scheme, host, path and
 * query must still match exactly. Private-use schemes match only exactly.
 */
export function redirectUriMatches(registered: readonly string[], presented: string): boolean {
  if (registered.includes(presented)) return true;
  if (redirectUriProblem(presented) !== undefined) return false;
  const url = new URL(presented);
  if (!isLoopback(url)) return false;
  return registered.some((candidate) => {
    if (redirectUriProblem(candidate) !== undefined) return false;
    const allowed = new URL(candidate);
    // The raw path and query, not the parsed ones: parsing normalises what must match as written.
    return isLoopback(allowed) && allowed.hostname === url.hostname && rawPath(candidate) === rawPath(presented);
  });
}

/** The path and query as written, after the authority: `new URL` normalises dot segments and percent case, which must not widen a match. */
function rawPath(uri: string): string {
  const afterScheme = uri.slice(uri.indexOf('//') + 2);
  const slash = afterScheme.search(/[/?]/);
  return slash < 0 ? '' : afterScheme.slice(slash);
}
