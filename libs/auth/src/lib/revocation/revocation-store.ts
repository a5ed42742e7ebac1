import type { Principal } from '../principal';

/**
 * Where revocations live. `isRevoked` sits on the request path, so
 * implementations answer it synchronously from memory and persist on the side.
 */
export interface RevocationStore {
  isRevoked(principal: Principal): boolean;
  /**
   * False while this store may be missing revocations made elsewhere (its
   * fan-out is disconnected); the verifier then checks every token afresh.
   */
  allowsCaching?(): boolean;
}

/** The store used when an app provides none. */
export class NoRevocations implements RevocationStore {
  isRevoked(): boolean {
    return false;
  }
}
