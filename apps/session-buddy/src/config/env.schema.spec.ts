import { AuthConfigError } from '@crossauth/auth';
import { randomSecret } from '@crossauth/auth/testing';
import { loadSessionBuddyConfig } from './env.schema';

const base = { SESSION_BUDDY_SECRET: randomSecret(), SESSION_BUDDY_DATA_DIR: '/tmp/unused' };
const AS = 'https://auth.example.test';

describe('session-buddy configuration: whose tokens it trusts', () => {
  it('trusts the authorization server it names, by its issuer URL, and the predecessors', () => {
    const config = loadSessionBuddyConfig({ ...base, SESSION_BUDDY_AUTHORIZATION_SERVER: AS });
    expect(config.auth.allowedIssuers).toEqual([AS, 'mahavishnu']);
    expect(config.auth.legacyIssuers).toEqual([expect.objectContaining({ name: 'orchestrator', issuer: AS })]);
  });

  it('binds the JWKS to the authorization server by default, and reads a legacy JWKS issuer as it', () => {
    const jwks = { SESSION_BUDDY_AUTHORIZATION_SERVER: AS, SESSION_BUDDY_JWKS_URL: `${AS}/.well-known/jwks.json` };
    expect(loadSessionBuddyConfig({ ...base, ...jwks }).auth.jwks?.issuer).toBe(AS);
    expect(loadSessionBuddyConfig({ ...base, ...jwks, SESSION_BUDDY_JWKS_ISSUER: 'orchestrator' }).auth.jwks?.issuer).toBe(AS);
  });

  it('reads legacy names in the allow-list and the signed-request list as the issuer they now name', () => {
    const config = loadSessionBuddyConfig({
      ...base,
      SESSION_BUDDY_AUTHORIZATION_SERVER: AS,
      SESSION_BUDDY_ALLOWED_ISSUERS: 'orchestrator, mahavishnu',
      SESSION_BUDDY_REQUIRE_SIGNED_REQUESTS: 'orchestrator',
    });
    expect(config.auth.allowedIssuers).toEqual([AS, 'mahavishnu']);
    expect(config.auth.requireSignedRequests).toEqual([AS]);
  });

  it('reads a trust file path, with loopback HTTP off unless switched on', () => {
    expect(loadSessionBuddyConfig(base).auth.trust).toBeUndefined();
    expect(loadSessionBuddyConfig({ ...base, SESSION_BUDDY_TRUST_FILE: '/etc/trust.yaml' }).auth.trust).toEqual({
      file: '/etc/trust.yaml',
      allowLoopbackHttp: false,
    });
    expect(
      loadSessionBuddyConfig({ ...base, SESSION_BUDDY_TRUST_FILE: '/t.yaml', SESSION_BUDDY_TRUST_ALLOW_LOOPBACK_HTTP: 'true' }).auth.trust?.allowLoopbackHttp,
    ).toBe(true);
  });

  it.each([
    ['a loopback switch that is not a boolean', { SESSION_BUDDY_TRUST_ALLOW_LOOPBACK_HTTP: 'sometimes' }, /SESSION_BUDDY_TRUST_ALLOW_LOOPBACK_HTTP/],
    ['a trailing slash', { SESSION_BUDDY_AUTHORIZATION_SERVER: `${AS}/` }, /SESSION_BUDDY_AUTHORIZATION_SERVER: must be an issuer URL/],
    ['a plain name', { SESSION_BUDDY_AUTHORIZATION_SERVER: 'orchestrator' }, /SESSION_BUDDY_AUTHORIZATION_SERVER: must be an issuer URL/],
    ['a window end that is not an instant', { SESSION_BUDDY_LEGACY_ISSUERS_UNTIL: 'next spring' }, /SESSION_BUDDY_LEGACY_ISSUERS_UNTIL/],
  ])('refuses %s, naming the variable', (_what, env, message) => {
    expect(() => loadSessionBuddyConfig({ ...base, ...env })).toThrow(AuthConfigError);
    expect(() => loadSessionBuddyConfig({ ...base, ...env })).toThrow(message);
  });
});
