import { AuthConfigError, DEFAULT_LEGACY_ISSUERS_UNTIL } from '@crossauth/auth';
import { randomSecret } from '@crossauth/auth/testing';
import { loadOrchestratorConfig } from './env.schema';

const base = { ORCHESTRATOR_AUTH_SECRET: randomSecret(), ORCHESTRATOR_DATA_DIR: '/tmp/unused' };

describe('orchestrator configuration: issuer and caller identity', () => {
  it('issues as its public URL by default, and calls session-buddy under its plain name', () => {
    const config = loadOrchestratorConfig({ ...base, ORCHESTRATOR_PORT: '9100' });
    expect(config.auth).toMatchObject({ issuer: 'http://127.0.0.1:9100', callerId: 'orchestrator', allowedIssuers: ['http://127.0.0.1:9100'] });
    expect(config.auth.legacyIssuers).toEqual([{ name: 'orchestrator', issuer: 'http://127.0.0.1:9100', until: DEFAULT_LEGACY_ISSUERS_UNTIL }]);
    expect(config.sessionBuddy.client).toBeUndefined();
  });

  it('takes the public URL without its trailing slash as the issuer', () => {
    expect(loadOrchestratorConfig({ ...base, ORCHESTRATOR_PUBLIC_URL: 'https://auth.example.test/' }).auth.issuer).toBe('https://auth.example.test');
  });

  it('reads an explicit issuer, caller id and window end', () => {
    const config = loadOrchestratorConfig({
      ...base,
      ORCHESTRATOR_ISSUER: 'https://id.example.test',
      ORCHESTRATOR_CALLER_ID: 'orch-eu',
      ORCHESTRATOR_LEGACY_ISSUERS_UNTIL: '2027-01-31T00:00:00Z',
    });
    expect(config.auth).toMatchObject({ issuer: 'https://id.example.test', callerId: 'orch-eu' });
    expect(config.auth.legacyIssuers[0]?.until.toISOString()).toBe('2027-01-31T00:00:00.000Z');
  });

  it('reads a legacy name in ORCHESTRATOR_ALLOWED_ISSUERS as the issuer it now names', () => {
    const config = loadOrchestratorConfig({ ...base, ORCHESTRATOR_PORT: '9100', ORCHESTRATOR_ALLOWED_ISSUERS: 'orchestrator,mahavishnu' });
    expect(config.auth.allowedIssuers).toEqual(['http://127.0.0.1:9100', 'mahavishnu']);
  });

  it('turns the window off with none', () => {
    expect(loadOrchestratorConfig({ ...base, ORCHESTRATOR_LEGACY_ISSUERS: 'none' }).auth.legacyIssuers).toEqual([]);
  });

  it.each([
    ['a plain name', { ORCHESTRATOR_ISSUER: 'orchestrator' }, /ORCHESTRATOR_ISSUER: must be an issuer URL/],
    ['a trailing slash', { ORCHESTRATOR_ISSUER: 'https://id.example.test/' }, /ORCHESTRATOR_ISSUER: must be an issuer URL/],
    ['a query', { ORCHESTRATOR_ISSUER: 'https://id.example.test?tenant=a' }, /ORCHESTRATOR_ISSUER: must be an issuer URL/],
    ['a fragment', { ORCHESTRATOR_ISSUER: 'https://id.example.test#x' }, /ORCHESTRATOR_ISSUER: must be an issuer URL/],
    ['another scheme', { ORCHESTRATOR_ISSUER: 'ftp://id.example.test' }, /ORCHESTRATOR_ISSUER: must be an issuer URL/],
    ['a URL as caller id', { ORCHESTRATOR_CALLER_ID: 'http://127.0.0.1:8679' }, /ORCHESTRATOR_CALLER_ID: must be a plain identifier/],
    ['a window end without a time', { ORCHESTRATOR_LEGACY_ISSUERS_UNTIL: '2027-06-30' }, /ORCHESTRATOR_LEGACY_ISSUERS_UNTIL/],
  ])('refuses %s, naming the variable and not the value', (_what, env, message) => {
    let thrown: unknown;
    try {
      loadOrchestratorConfig({ ...base, ...env });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AuthConfigError);
    expect((thrown as Error).message).toMatch(message);
    for (const value of Object.values(env)) expect((thrown as Error).message).not.toContain(value);
  });
});

describe('orchestrator configuration: revocation delivery', () => {
  it('retries a revocation at most a minute apart by default, and reads another bound', () => {
    expect(loadOrchestratorConfig(base).oauth.revocationRetryMaxSeconds).toBe(60);
    expect(loadOrchestratorConfig({ ...base, ORCHESTRATOR_REVOCATION_RETRY_MAX_SECONDS: '5' }).oauth.revocationRetryMaxSeconds).toBe(5);
  });

  it.each(['0', '3601', 'soon'])('refuses %s as ORCHESTRATOR_REVOCATION_RETRY_MAX_SECONDS, naming the variable', (value) => {
    expect(() => loadOrchestratorConfig({ ...base, ORCHESTRATOR_REVOCATION_RETRY_MAX_SECONDS: value })).toThrow(/ORCHESTRATOR_REVOCATION_RETRY_MAX_SECONDS/);
  });
});
