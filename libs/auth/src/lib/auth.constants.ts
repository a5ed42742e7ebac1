/** DI token for {@link ResolvedAuthOptions}. */
export const AUTH_OPTIONS = Symbol('crossauth:auth-options');
/** Route metadata: the handler is reachable without a token. */
export const IS_PUBLIC_KEY = 'crossauth:public';
/** Route metadata: per-handler auth settings from `@RequireAuth()`. */
export const REQUIRE_AUTH_KEY = 'crossauth:require-auth';
/** Route metadata: scopes a handler requires. */
export const REQUIRED_SCOPES_KEY = 'crossauth:required-scopes';
