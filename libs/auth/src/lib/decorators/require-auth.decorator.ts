import { SetMetadata } from '@nestjs/common';
import { REQUIRE_AUTH_KEY } from '../auth.constants';

/** Per-route auth settings. */
export interface RequireAuthOptions {
  /** Let token-less calls through as the anonymous principal; a present token must still be valid. */
  readonly optional?: boolean;
}

/** Adjusts how the global guard treats a route (it is protected either way). */
export const RequireAuth = (options: RequireAuthOptions = {}): MethodDecorator & ClassDecorator => SetMetadata(REQUIRE_AUTH_KEY, options);
