import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './support/cli';
import { spawnApp, type RunningApp } from './support/spawn-app';
import { newSecret } from './support/tokens';

const PASSWORD = 'correct horse battery staple';

describe('crossauth user: local accounts on the orchestrator', () => {
  const secret = newSecret();
  let orchestrator: RunningApp;
  let dataDir: string;
  const admin = (args: string[], env: Record<string, string> = {}) => cli([...args, '--url', orchestrator.mcpUrl], { CROSSAUTH_SECRET: secret, ...env });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'accounts-orch-'));
    orchestrator = await spawnApp('orchestrator', { ORCHESTRATOR_AUTH_SECRET: secret, ORCHESTRATOR_DATA_DIR: dataDir });
  });
  afterAll(() => orchestrator.stop());

  it('adds, lists, re-roles and removes a person; the password comes from the environment and is never shown or stored', async () => {
    const added = await admin(['user', 'add', 'Alice', '--role', 'viewer'], { CROSSAUTH_USER_PASSWORD: PASSWORD });
    expect(added).toMatchObject({ code: 0, out: 'added alice (viewer)\n' });
    expect((await admin(['user', 'set-role', 'alice', '--role', 'developer'])).out.trim()).toBe('alice is now developer');
    const listed = await admin(['user', 'list']);
    expect(listed.out).toMatch(/^alice\s+developer\s+since \d{4}-\d\d-\d\dT/);
    expect((await admin(['user', 'set-password', 'alice'], { CROSSAUTH_USER_PASSWORD: 'another long passphrase' })).out.trim()).toBe(
      'password of alice changed',
    );
    const everything = `${added.out}${added.err}${listed.out}${JSON.stringify(orchestrator.logs())}`;
    expect(everything).not.toContain(PASSWORD);
    // The database holds a scrypt hash, not the password.
    const files = readdirSync(dataDir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(readFileSync(join(f.parentPath, f.name)).includes(Buffer.from(PASSWORD))).toBe(false);
    expect((await admin(['user', 'remove', 'alice'])).out.trim()).toMatch(/^removed alice; 0 grant\(s\) revoked; live tokens revoked here/);
    expect((await admin(['user', 'list'])).out.trim()).toBe('no users');
  });

  it('keeps usernames and client ids apart: neither may take the other', async () => {
    expect((await admin(['client', 'add', 'robot', '--scope', 'read', '--resource', 'http://127.0.0.1:8678/mcp'])).code).toBe(0);
    const user = await admin(['user', 'add', 'robot'], { CROSSAUTH_USER_PASSWORD: PASSWORD });
    expect(user).toMatchObject({ code: 1 });
    expect(user.err).toMatch(/username robot is a registered client's id/);
    expect((await admin(['user', 'add', 'carol'], { CROSSAUTH_USER_PASSWORD: PASSWORD })).code).toBe(0);
    const client = await admin(['client', 'add', 'carol', '--scope', 'read', '--resource', 'http://127.0.0.1:8678/mcp']);
    expect(client).toMatchObject({ code: 1 });
    expect(client.err).toMatch(/client id carol is a person's username/);
  });

  it.each([
    ['no password in the environment', ['user', 'add', 'dave'], {}, /set CROSSAUTH_USER_PASSWORD \(or CROSSAUTH_USER_PASSWORD_FILE\)/],
    ['a short password', ['user', 'add', 'dave'], { CROSSAUTH_USER_PASSWORD: 'short' }, /password: a password needs at least 12 characters/],
    ['an unknown role', ['user', 'add', 'dave', '--role', 'root'], { CROSSAUTH_USER_PASSWORD: PASSWORD }, /role/],
    ['a username with a space', ['user', 'add', 'dave smith'], { CROSSAUTH_USER_PASSWORD: PASSWORD }, /username: 1-64 letters/],
    ['a taken username', ['user', 'add', 'carol'], { CROSSAUTH_USER_PASSWORD: PASSWORD }, /user carol already exists/],
    ['removing nobody', ['user', 'remove', 'nobody'], {}, /no user nobody/],
    ['set-role without --role', ['user', 'set-role', 'carol'], {}, /needs --role/],
    ['an unknown action', ['user', 'promote', 'carol'], {}, /user needs add, list, remove, set-password, set-role or sign-out-everywhere/],
  ])('exits 1 on %s, saying why', async (_name, args, env: Record<string, string>, message) => {
    const run = await admin(args, env);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(message);
    expect(run.err).not.toContain(PASSWORD);
  });

  it('refuses the user tools to a caller without admin', async () => {
    const run = await cli(['call', orchestrator.mcpUrl, 'user_list', '{}', '--scope', 'read write'], {
      CROSSAUTH_SECRET: secret,
      ORCHESTRATOR_PUBLIC_URL: orchestrator.url,
    });
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/user_list needs scope 'admin'/);
  });

  describe('public clients, for the MCP clients people sign in through', () => {
    const resource = 'http://127.0.0.1:8678/mcp';

    it('registers one with redirect URIs and no secret, which client credentials then refuse', async () => {
      const added = await admin([
        'client',
        'add',
        'desktop-app',
        '--public',
        '--scope',
        'read write',
        '--resource',
        resource,
        '--redirect-uri',
        'http://127.0.0.1/callback',
        '--redirect-uri',
        'cursor://anysphere.cursor-retrieval/oauth',
      ]);
      expect(added.code).toBe(0);
      expect(added.out).toMatch(/auth_method:\s+none/);
      expect(added.out).toMatch(/redirect_uris: http:\/\/127\.0\.0\.1\/callback cursor:\/\/anysphere\.cursor-retrieval\/oauth/);
      expect(added.out).not.toMatch(/client_secret/);
      // No secret means no client_credentials: a public client is a person's app, not a machine.
      const grant = await fetch(`${orchestrator.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'desktop-app' }).toString(),
      });
      expect(grant.status).toBe(400);
      expect(await grant.json()).toMatchObject({ error: 'unauthorized_client' });
      const rotated = await admin(['client', 'rotate-secret', 'desktop-app']);
      expect(rotated.code).toBe(1);
      expect(rotated.err).toMatch(/client desktop-app is public: it has no secret to rotate/);
    });

    it.each([
      ['no redirect URI', [], /redirect_uris: a public client needs at least one/],
      ['an http redirect on a public host', ['--redirect-uri', 'http://app.example/cb'], /must be a loopback address/],
      ['a javascript: redirect', ['--redirect-uri', 'javascript:alert(1)'], /scheme javascript: is not accepted/],
      ['a redirect with a fragment', ['--redirect-uri', 'https://app.example/cb#x'], /fragment/],
      ['a relative redirect', ['--redirect-uri', '/callback'], /not an absolute URI/],
    ])('refuses to register one with %s, and registers nothing', async (_name, extra: string[], message) => {
      const run = await admin(['client', 'add', 'bad-app', '--public', '--scope', 'read', '--resource', resource, ...extra]);
      expect(run.code).toBe(1);
      expect(run.err).toMatch(message);
      expect((await admin(['client', 'list'])).out).not.toContain('bad-app');
    });
  });
});
