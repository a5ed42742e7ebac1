import type { Authentication } from './request-authenticator.service';

/** What crossauth remembers about one HTTP request. */
export interface RequestState {
  /** Correlation id, echoed as `X-Request-Id`. */
  id?: string;
  /** What the global guard decided about the caller. */
  authentication?: Authentication;
}

// Kept beside the request, not on it. Express 5 re-parents every request and
// response (Object.setPrototypeOf), which leaves each one with a map of its own
// outside V8's transition tree, so every property added to one copies its whole
// descriptor array: ~1.3 KB of garbage per added property per request,
// measured with the bench's allocation profile. A WeakMap entry costs neither.
const states = new WeakMap<object, RequestState>();

/** This request's state, created empty on first use. */
export function requestStateOf(request: object): RequestState {
  let state = states.get(request);
  if (state === undefined) states.set(request, (state = {}));
  return state;
}

/** This request's state if anything was recorded yet. */
export function knownRequestStateOf(request: object): RequestState | undefined {
  return states.get(request);
}
