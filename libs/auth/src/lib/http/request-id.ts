import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { requestStateOf } from './request-state';

// Keep a caller's correlation id only if it is short and plain; never log arbitrary header bytes.
const PLAIN_ID = /^[\w.-]{1,64}$/;

/**
 * This request's correlation id: the caller's `X-Request-Id` when it is short
 * and plain, otherwise a fresh UUID. Assigned once, echoed on the response.
 */
export function requestIdOf(req: IncomingMessage, res?: ServerResponse): string {
  const state = requestStateOf(req);
  if (state.id !== undefined) return state.id;
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && PLAIN_ID.test(incoming) ? incoming : randomUUID();
  state.id = id;
  if (res && !res.headersSent) res.setHeader('x-request-id', id);
  return id;
}
