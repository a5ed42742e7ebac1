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

  describe('fingerprint across services', () => {
    const other = randomSecret();

    it('prints each service key id and says they match when session-buddy accepts the orchestrator key', async () => {
      const { code, out } = await run(['fingerprint'], { SESSION_BUDDY_SECRET: secret, ORCHESTRATOR_AUTH_SECRET: secret });
      expect(code).toBe(0);
      expect(out).toMatch(new RegExp(`^session-buddy\\s+${deriveKeyId(secret)}\\s+current`, 'm'));
      expect(out).toMatch(new RegExp(`^orchestrator\\s+${deriveKeyId(secret)}\\s+current`, 'm'));
      expect(out).toContain(`match: session-buddy accepts the orchestrator's signing key ${deriveKeyId(secret)}`);
    });

    it('says MISMATCH and exits 3 when the services hold different secrets', async () => {
      const { code, out } = await run(['fingerprint'], { SESSION_BUDDY_SECRET: secret, ORCHESTRATOR_AUTH_SECRET: other });
      expect(code).toBe(3);
      expect(out).toContain(deriveKeyId(secret));
      expect(out).toContain(deriveKeyId(other));
      expect(out).toMatch(/^MISMATCH: session-buddy does not accept the orchestrator's signing key/m);
      expect(out).not.toContain(secret);
      expect(out).not.toContain(other);
    });

    it("counts a match mid-rotation: the orchestrator's new key among session-buddy's previous ones", async () => {
      const { code, out } = await run(['fingerprint'], {
        SESSION_BUDDY_SECRET: other,
        SESSION_BUDDY_PREVIOUS_SECRETS: secret,
        ORCHESTRATOR_AUTH_SECRET: secret,
      });
      expect(code).toBe(0);
      expect(out).toMatch(new RegExp(`^session-buddy\\s+${deriveKeyId(secret)}\\s+previous`, 'm'));
      expect(out).toContain('match:');
    });

    it('says which service is missing when only one is configured here', async () => {
      const { code, out } = await run(['fingerprint'], { SESSION_BUDDY_SECRET: secret });
      expect(code).toBe(0);
      expect(out).toMatch(/only session-buddy is configured here: run fingerprint where orchestrator runs/);
    });

    it('refuses a weak secret in any service variable, naming the variable only', async () => {
      const { code, err } = await run(['fingerprint'], { SESSION_BUDDY_SECRET: secret, ORCHESTRATOR_AUTH_SECRET: 'changeme-changeme-changeme-changeme' });
      expect(code).toBe(1);
      expect(err).toMatch(/ORCHESTRATOR_AUTH_SECRET is not an acceptable secret/);
      expect(err).not.toContain('changeme-changeme');
    });
  });

  it('mints a token that inspect accepts, with the requested claims', async () => {
    const token = (await run(['mint', '--sub', 'alice', '--scope', 'read write', '--aud', 'session-buddy', '--ttl', '60'], env)).out;
    const inspected = await run(['inspect', token], env);
    expect(inspected.code).toBe(0);
    expect(inspected.out).toMatch(/"typ":"at\+jwt"/);
    expect(inspected.out).toMatch(/valid: subject=alice issuer=http:\/\/127\.0\.0\.1:8679 scopes=read write/);
  });

  it("mints as the issuer the orchestrator's settings name", async () => {
    const token = (await run(['mint', '--sub', 'alice', '--scope', 'read'], { ...env, ORCHESTRATOR_PUBLIC_URL: 'https://auth.example.test/' })).out;
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: 'https://auth.example.test', client_id: 'alice' });
  });

  it('inspect explains a token under the legacy issuer name: accepted until the window ends', async () => {
    const inspected = await run(['inspect', craftToken(accessClaims({ iss: 'orchestrator' }), secret)], env);
    expect(inspected.out).toMatch(/valid: subject=alice issuer=orchestrator/);
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
