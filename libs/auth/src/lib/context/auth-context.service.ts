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
  // A mutable holder per request: the middleware opens it, the guard fills it.
  private readonly storage = new AsyncLocalStorage<{ state?: AuthContextState; requestId?: string }>();

  /** Runs `fn` with `state` as the current auth context. */
  run<T>(state: AuthContextState, fn: () => T): T {
    return this.storage.run({ state, requestId: this.storage.getStore()?.requestId }, fn);
  }

  /** Runs `fn` (the rest of a request) with an empty context for {@link set} to fill. */
  begin<T>(fn: () => T, requestId?: string): T {
    return this.storage.run({ requestId }, fn);
  }

  /** The current request's id, for log correlation. */
  get requestId(): string | undefined {
    return this.storage.getStore()?.requestId;
  }

  /** Fills the context opened by {@link begin} for this request. */
  set(state: AuthContextState): void {
    const holder = this.storage.getStore();
    if (holder) holder.state = state;
  }

  get state(): AuthContextState | undefined {
    return this.storage.getStore()?.state;
  }

  get principal(): Principal | undefined {
    return this.storage.getStore()?.state?.principal;
  }
}
