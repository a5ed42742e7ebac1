import { randomSecret } from '../testing';
import { AuthConfigError } from './auth.errors';
import { resolveAuthOptions, type AuthModuleOptions } from './auth-options';

const base: AuthModuleOptions = { issuer: 'orchestrator', allowedIssuers: ['orchestrator'], audiences: ['session-buddy'], secretName: 'SESSION_BUDDY_SECRET' };

describe('resolveAuthOptions', () => {
  it('defaults to required mode when a secret is set', () => {
    expect(resolveAuthOptions({ ...base, secret: randomSecret() }).mode).toBe('required');
  });

  it('defaults to disabled only when no secret is set', () => {
    const resolved = resolveAuthOptions(base);
    expect(resolved.mode).toBe('disabled');
    expect(resolved.keyRing).toBeUndefined();
  });

  it('refuses disabled mode while a secret is set (no silent switch-off)', () => {
    expect(() => resolveAuthOptions({ ...base, secret: randomSecret(), mode: 'disabled' })).toThrow(
      /"disabled" is only allowed when SESSION_BUDDY_SECRET is not set/,
    );
  });

  it.each(['required', 'optional'] as const)('refuses %s mode without a secret', (mode) => {
    expect(() => resolveAuthOptions({ ...base, mode })).toThrow(/SESSION_BUDDY_SECRET is required/);
  });

  it('refuses a weak previous secret, naming which one', () => {
    expect(() => resolveAuthOptions({ ...base, secret: randomSecret(), previousSecrets: ['short'] })).toThrow(/SESSION_BUDDY_SECRET \(previous #1\)/);
  });

  it('refuses empty issuer and audience lists', () => {
    expect(() => resolveAuthOptions({ ...base, secret: randomSecret(), allowedIssuers: [] })).toThrow(AuthConfigError);
    expect(() => resolveAuthOptions({ ...base, secret: randomSecret(), audiences: [] })).toThrow(AuthConfigError);
  });

  it('applies the documented defaults', () => {
    expect(resolveAuthOptions({ ...base, secret: randomSecret() })).toMatchObject({
      clockSkewSeconds: 30,
      maxTokenBytes: 8192,
      acceptLegacyTokens: false,
      cacheEnabled: true,
    });
  });
});
