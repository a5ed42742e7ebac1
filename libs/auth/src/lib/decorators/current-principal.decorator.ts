import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { AuthError } from '../auth.errors';
import { principalOf } from '../http/auth-request';
import type { Principal } from '../principal';

/** Injects the verified {@link Principal} of the current request. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = principalOf(context.switchToHttp().getRequest<object>());
  // The guard always sets it on protected routes; reaching here without one is a wiring bug.
  if (!principal) throw new AuthError('missing', 'no principal on request (is the route @Public()?)');
  return principal;
});
