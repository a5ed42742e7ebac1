import type { Principal } from '../principal';

/** Where the guard leaves the verified principal on the request object. */
export const PRINCIPAL_SLOT = Symbol('crossauth:principal');

/** A request the guard has processed. Read it through `@CurrentPrincipal()`. */
export interface AuthenticatedRequest {
  [PRINCIPAL_SLOT]?: Principal;
}

/** The principal the guard attached to this request, if any. */
export function principalOf(request: object): Principal | undefined {
  return (request as AuthenticatedRequest)[PRINCIPAL_SLOT];
}
