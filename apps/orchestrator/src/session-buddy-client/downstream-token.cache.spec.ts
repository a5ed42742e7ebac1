import { JwtService } from '@nestjs/jwt';
import { TokenExchangeService, TokenIssuerService, TokenVerifierService, resolveAuthOptions } from '@crossauth/auth';
import { randomSecret } from '@crossauth/auth/testing';
import type { OrchestratorConfig } from '../config/env.schema';
import { DownstreamTokenCache } from './downstream-token.cache';
import { TokenEndpointClient } from './token-endpoint.client';

describe('DownstreamTokenCache', () => {
  const secret = randomSecret();
  // The issuer is a URL; the orchestrator as a caller keeps its plain name.
  const ISSUER = 'https://auth.example.test';
  const auth = resolveAuthOptions({ secret, issuer: ISSUER, allowedIssuers: [ISSUER], audiences: ['session-buddy'] });
  const config = {
    auth: { issuer: ISSUER, callerId: 'orchestrator' },
    sessionBuddy: { audience: 'session-buddy', tokenTtlSeconds: 100 },
  } as OrchestratorConfig;
  const issuer = new TokenIssuerService(auth, new JwtService({}));
  const make = () => new DownstreamTokenCache(new TokenExchangeService(issuer), new TokenEndpointClient(config, issuer), config);
  const verifier = new TokenVerifierService(auth);

  it('mints a token for session-buddy as the caller, acted for by the orchestrator, with exactly the scopes asked', async () => {
    const p = verifier.verify(await make().tokenFor('carol', ['write']));
    expect(p).toMatchObject({ subject: 'carol', issuer: ISSUER, audience: ['session-buddy'], actor: 'orchestrator', scopes: ['write'] });
  });

  it('reuses a token per (subject, scopes) until 80% of its life, then renews', async () => {
    const cache = make();
    const t0 = 1_800_000_000_000;
    const first = await cache.tokenFor('carol', ['write', 'read'], t0);
    expect(await cache.tokenFor('carol', ['read', 'write'], t0 + 79_000)).toBe(first);
    expect(await cache.tokenFor('carol', ['read', 'write'], t0 + 80_000)).not.toBe(first);
    expect(cache.stats.minted).toBe(2);
  });

  it('never shares a token across subjects or scope sets', async () => {
    const cache = make();
    const a = await cache.tokenFor('a', ['read']);
    expect(await cache.tokenFor('b', ['read'])).not.toBe(a);
    expect(await cache.tokenFor('a', ['write'])).not.toBe(a);
  });

  it("keeps a caller's own actors under the orchestrator (nested act), and never shares a token across chains", async () => {
    const cache = make();
    const chained = await cache.tokenFor('dave', ['read'], Date.now(), ['mahavishnu']);
    expect(verifier.verify(chained)).toMatchObject({ subject: 'dave', actor: 'orchestrator', actors: ['orchestrator', 'mahavishnu'] });
    const direct = await cache.tokenFor('dave', ['read']);
    expect(direct).not.toBe(chained);
    expect(verifier.verify(direct).actors).toEqual(['orchestrator']);
  });

  it('mints afresh after invalidation (the 401 path)', async () => {
    const cache = make();
    const a = await cache.tokenFor('a', ['read']);
    cache.invalidate('a', ['read']);
    expect(await cache.tokenFor('a', ['read'])).not.toBe(a);
  });
});
