import { accessClaims, craftToken, randomSecret } from '@crossauth/auth/testing';
import { deriveKeyId } from '@crossauth/auth';
import { runCli } from './cli';

async function run(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, env, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('crossauth CLI', () => {
  const secret = randomSecret();
  const env = { ORCHESTRATOR_AUTH_SECRET: secret };

  it('generates secrets that pass the start-up policy and differ each time', async () => {
    const a = (await run(['secret'])).out;
    const b = (await run(['secret'])).out;
    expect(a).not.toBe(b);
    expect((await run(['fingerprint'], { CROSSAUTH_SECRET: a })).code).toBe(0);
  });

  it('prints the key id, never the secret', async () => {
    const { code, out } = await run(['fingerprint'], env);
    expect(code).toBe(0);
    expect(out).toContain(deriveKeyId(secret));
    expect(out).not.toContain(secret);
  });

  it('mints a token that inspect accepts, with the requested claims', async () => {
    const token = (await run(['mint', '--sub', 'alice', '--scope', 'read write', '--aud', 'session-buddy', '--ttl', '60'], env)).out;
    const inspected = await run(['inspect', token], env);
    expect(inspected.code).toBe(0);
    expect(inspected.out).toMatch(/valid: subject=alice issuer=orchestrator scopes=read write/);
  });

  it.each([
    ['an expired token', () => craftToken(accessClaims({ exp: 1000 }), secret), 'expired'],
    ['a token for another audience', () => craftToken(accessClaims({ aud: 'elsewhere' }), secret), 'wrong_audience'],
    ['a token signed with another secret', () => craftToken(accessClaims(), randomSecret()), 'unknown_key'],
  ])('inspect explains why %s fails, exiting 2', async (_n, token, reason) => {
    const { code, out } = await run(['inspect', token()], env);
    expect(code).toBe(2);
    expect(out).toContain(`invalid: ${reason}`);
  });

  it.each([
    ['mint without --sub', ['mint'], /--sub/],
    ['mint with a bad ttl', ['mint', '--sub', 'a', '--ttl', '0'], /--ttl/],
    ['mint with an unknown type', ['mint', '--sub', 'a', '--type', 'id'], /--type/],
    ['inspect without a token', ['inspect'], /needs a token/],
    ['revoke-token without a target', ['revoke-token'], /needs a jti or token/],
    ['revoke-subject against a server that is not there', ['revoke-subject', 'bob', '--url', 'http://127.0.0.1:9/mcp'], /fetch failed|ECONNREFUSED/],
  ])('refuses %s', async (_n, args, message) => {
    const { code, err } = await run(args, env);
    expect(code).toBe(1);
    expect(err).toMatch(message);
  });

  it('refuses to mint without a secret, or with a weak one, naming the variable only', async () => {
    expect((await run(['mint', '--sub', 'a'], {})).err).toMatch(/no secret configured/);
    const weak = await run(['mint', '--sub', 'a'], { CROSSAUTH_SECRET: 'changeme-changeme-changeme-changeme' });
    expect(weak.err).toMatch(/CROSSAUTH_SECRET is not an acceptable secret/);
    expect(weak.err).not.toContain('changeme-changeme');
  });
});
