import type { Principal } from '../principal';
import type { Authentication } from './request-authenticator.service';

/** Where the guard leaves the authentication result on the request object. */
export const AUTHENTICATION_SLOT = Symbol('crossauth:authentication');

/** A request the guard has processed. Read it through `@CurrentPrincipal()`. */
export interface AuthenticatedRequest {
  [AUTHENTICATION_SLOT]?: Authentication;
}

/** The principal the guard attached to this request, if any. */
export function principalOf(request: object): Principal | undefined {
  return (request as AuthenticatedRequest)[AUTHENTICATION_SLOT]?.principal;
}

/** The full authentication result (principal and presented-token matcher), if any. */
export function authenticationOf(request: object): Authentication | undefined {
  return (request as AuthenticatedRequest)[AUTHENTICATION_SLOT];
}
