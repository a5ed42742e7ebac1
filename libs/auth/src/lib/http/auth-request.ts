import type { Principal } from '../principal';
import type { Authentication } from './request-authenticator.service';
import { knownRequestStateOf, requestStateOf } from './request-state';

/** Records what the guard decided about this request's caller. */
export function setAuthenticationOf(request: object, authentication: Authentication): void {
  requestStateOf(request).authentication = authentication;
}

/** The principal the guard attached to this request, if any. */
export function principalOf(request: object): Principal | undefined {
  return knownRequestStateOf(request)?.authentication?.principal;
}

/** The full authentication result (principal and presented-token matcher), if any. */
export function authenticationOf(request: object): Authentication | undefined {
  return knownRequestStateOf(request)?.authentication;
}
