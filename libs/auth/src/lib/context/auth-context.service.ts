import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import type { Principal } from '../principal';

/** What one request knows about its caller. */
export interface AuthContextState {
  readonly principal: Principal;
  /**
   * True when `candidate` is the bearer token this request presented. A
   * function, so the token itself is never readable from the context.
   */
  readonly matchesPresentedToken?: (candidate: string) => boolean;
  readonly transport: 'http' | 'stdio' | 'internal';
  readonly requestId?: string;
}

/**
 * Request-scoped auth state on AsyncLocalStorage. Each request gets its own
 * store, so concurrent requests never see each other's principal (the Python
 * predecessor kept the last error in a module global).
 */
@Injectable()
export class AuthContextService {
  private readonly storage = new AsyncLocalStorage<AuthContextState>();

  run<T>(state: AuthContextState, fn: () => T): T {
    return this.storage.run(state, fn);
  }

  get state(): AuthContextState | undefined {
    return this.storage.getStore();
  }

  get principal(): Principal | undefined {
    return this.storage.getStore()?.principal;
  }
}
