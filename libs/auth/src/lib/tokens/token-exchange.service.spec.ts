import { JwtService } from '@nestjs/jwt';
import { resolveAuthOptions } from '../auth-options';
import { randomSecret } from '../../testing';
import { ExchangeRefusedError, TokenExchangeService } from './token-exchange.service';
import { TokenIssuerService } from './token-issuer.service';
import { TokenVerifierService } from './token-verifier.service';

describe('TokenExchangeService (RFC 8693 on-behalf-of)', () => {
  const auth = resolveAuthOptions({ secret: randomSecret(), issuer: 'orchestrator', allowedIssuers: ['orchestrator'], audiences: ['session-buddy'] });
  const exchange = new TokenExchangeService(new TokenIssuerService(auth, new JwtService({})));
  const verify = (token: string) => new TokenVerifierService(auth).verify(token);
  const now = Date.now();
  const subject = { subject: 'alice', scopes: ['read', 'write'], actors: ['assistant'], expiresAt: Math.floor(now / 1000) + 100 };
  const refusal = (run: () => unknown): string => {
    try {
      run();
      return 'granted';
    } catch (error) {
      if (error instanceof ExchangeRefusedError) return `${error.code}: ${error.message}`;
      throw error;
    }
  };

  it('keeps the subject, puts the actor on top of the chain, narrows scopes, and never outlives the subject token', () => {
    const minted = exchange.exchange({ subject, actor: 'relay', audience: 'session-buddy', scopes: ['read', 'delete'], ttlSeconds: 300 }, now);
    expect(minted.scopes).toEqual(['read']);
    expect(minted.expiresAt).toBe(subject.expiresAt);
    expect(verify(minted.token)).toMatchObject({ subject: 'alice', actors: ['relay', 'assistant'], scopes: ['read'], audience: ['session-buddy'] });
  });

  it('grants only what the client may have, too', () => {
    expect(
      exchange.exchange({ subject, actor: 'relay', audience: 'session-buddy', scopes: ['read', 'write'], allowedScopes: ['write'], ttlSeconds: 300 }, now)
        .scopes,
    ).toEqual(['write']);
  });

  it("asking for no scope gets a token with none (the orchestrator's health check)", () => {
    expect(
      verify(
        exchange.exchange(
          { subject: { subject: 'orchestrator', scopes: [] }, actor: 'orchestrator', audience: 'session-buddy', scopes: [], ttlSeconds: 300 },
          now,
        ).token,
      ).scopes,
    ).toEqual([]);
  });

  it.each([
    ['scopes the subject does not hold', { scopes: ['admin'] }, /^invalid_scope/],
    ['scopes the client may not have', { scopes: ['read'], allowedScopes: ['write'] }, /^invalid_scope/],
    ['an expired subject token', { subject: { ...subject, expiresAt: Math.floor(now / 1000) - 1 } }, /^invalid_request: the subject token has expired/],
    ['a chain longer than five', { subject: { ...subject, actors: ['a', 'b', 'c', 'd', 'e'] } }, /^invalid_request: the act chain/],
  ])('refuses %s', (_name, overrides, expected) => {
    expect(
      refusal(() => exchange.exchange({ subject, actor: 'relay', audience: 'session-buddy', scopes: ['read'], ttlSeconds: 300, ...overrides }, now)),
    ).toMatch(expected);
  });
});
