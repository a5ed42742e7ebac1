import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Principal } from '@crossauth/auth';

/** What an HTTP request established about its caller, handed to the tool layer. */
export interface McpCallAuth {
  readonly principal: Principal;
  /** True when `candidate` is the bearer token this request presented (the token itself is never passed on). */
  readonly matchesPresentedToken?: (candidate: string) => boolean;
  readonly requestId?: string;
}

const KEY = 'crossauth';

/**
 * Wraps the caller for the SDK's `authInfo` channel (`ctx.http.authInfo` in request handlers),
 * so each request carries its own principal to the tool handlers with no
 * ambient state. `token` stays empty on purpose: handlers never see the bearer.
 */
export function toAuthInfo(auth: McpCallAuth): AuthInfo {
  return { token: '', clientId: auth.principal.subject, scopes: auth.principal.scopes as string[], extra: { [KEY]: auth } };
}

/** The caller a request attached through {@link toAuthInfo}, if any. */
export function callAuthOf(extra: { authInfo?: AuthInfo } | undefined): McpCallAuth | undefined {
  return extra?.authInfo?.extra?.[KEY] as McpCallAuth | undefined;
}
