import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { Principal } from '../principal';
import { authenticationOf, principalOf, setAuthenticationOf } from './auth-request';
import { requestIdOf } from './request-id';

const exchange = (headers: Record<string, string> = {}) => {
  const req = new IncomingMessage(new Socket());
  req.headers = headers;
  return { req, res: new ServerResponse(req) };
};
const principal: Principal = {
  subject: 'alice',
  issuer: 'orchestrator',
  audience: ['session-buddy'],
  scopes: ['read'],
  expiresAt: 2_000_000_000,
  anonymous: false,
} as Principal;

describe('per-request state', () => {
  it('gives each request one id, echoed once on the response', () => {
    const a = exchange();
    const b = exchange();
    const id = requestIdOf(a.req, a.res);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdOf(a.req)).toBe(id);
    expect(a.res.getHeader('x-request-id')).toBe(id);
    expect(requestIdOf(b.req, b.res)).not.toBe(id);
  });

  it("keeps a caller's plain X-Request-Id and replaces anything else", () => {
    expect(requestIdOf(exchange({ 'x-request-id': 'trace-42.a_b' }).req)).toBe('trace-42.a_b');
    for (const bad of ['x'.repeat(65), 'a b', 'id\r\nset-cookie: x', '']) {
      expect(requestIdOf(exchange({ 'x-request-id': bad }).req)).not.toBe(bad);
    }
  });

  it('knows no caller before the guard has run, and only the one it recorded after', () => {
    const a = exchange();
    const b = exchange();
    expect(authenticationOf(a.req)).toBeUndefined();
    expect(principalOf(a.req)).toBeUndefined();
    requestIdOf(a.req);
    expect(principalOf(a.req)).toBeUndefined();
    setAuthenticationOf(a.req, { principal });
    expect(principalOf(a.req)).toBe(principal);
    expect(principalOf(b.req)).toBeUndefined();
  });

  // Why the state lives beside the request: Express 5 gives every request its own
  // hidden class, so each property added to it copies the class (see request-state.ts).
  it('adds no property to the request or the response object', () => {
    const { req, res } = exchange();
    const before = Reflect.ownKeys(req).length;
    requestIdOf(req, res);
    setAuthenticationOf(req, { principal });
    expect(Reflect.ownKeys(req)).toHaveLength(before);
  });
});
