import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { addDesktopApp, authorizationRequest } from './support/authorization-request';
import { cli } from './support/cli';
import { startOidcProvider, type OidcFixture } from './support/oidc-fixture';
import { postForm, redirectListener } from './support/redirect-listener';
import { freePort, runToExit, spawnApp, type RunningApp } from './support/spawn-app';
import { connect, newSecret, structured } from './support/tokens';

const CHROMIUM = process.env['CROSSAUTH_TEST_CHROMIUM'] ?? '/usr/bin/chromium';
const UPSTREAM = { client_id: 'crossauth-orchestrator', client_secret: 'upstream-client-secret-0123456789abcdef' };
const ACCOUNTS = {
  alice: { email: 'alice@acme.example', email_verified: true, groups: ['engineering'] },
  root: { email: 'root@acme.example', email_verified: true, groups: ['engineering', 'platform-admins'] },
  bob: { email: 'bob@acme.example', email_verified: true, groups: ['sales'] },
  carol: { email: 'carol@acme.example', email_verified: false, groups: ['engineering'] },
};

describe('people sign in through an upstream OpenID provider (real provider, headless Chromium)', () => {
  const secret = newSecret();
  let idp: OidcFixture;
  let sessionBuddy: RunningApp;
  let orchestrator: RunningApp;
  let browser: Browser;
  let listener: Awaited<ReturnType<typeof redirectListener>>;
  let orchestratorEnv: Record<string, string>;

  /** Starts an authorization request as an MCP client would; returns the verifier for the token request. */
  const authorizeUrl = (state: string, scope = 'read write') =>
    authorizationRequest(orchestrator.url, {
      client_id: 'desktop-app',
      redirect_uri: `http://127.0.0.1:${listener.port}/callback`,
      state,
      resource: sessionBuddy.mcpUrl,
      scope,
    });
  /** At the provider's own pages: sign in as `login` (any password) and let it share the claims. */
  const signInUpstream = async (page: Page, login: string) => {
    await page.waitForSelector('input[name=login]');
    await page.fill('input[name=login]', login);
    await page.fill('input[name=password]', 'any password: the provider checks it, not crossauth');
    await Promise.all([page.waitForURL((u) => !u.href.includes('/interaction/') || !u.href.endsWith('/login')), page.click('button[type=submit]')]);
    // The provider's consent step, the first time this person meets the client.
    await page.waitForLoadState();
    if (page.url().startsWith(idp.issuer) && (await page.isVisible('button:has-text("Continue")'))) await page.click('button:has-text("Continue")');
  };
  const denials = () =>
    orchestrator
      .logs()
      .map((l) => l.message as Record<string, unknown>)
      .filter((m) => m['event'] === 'auth_decision' && m['outcome'] === 'deny');

  beforeAll(async () => {
    const orchestratorPort = await freePort();
    idp = await startOidcProvider({
      clients: [
        { ...UPSTREAM, redirect_uris: [`http://127.0.0.1:${orchestratorPort}/oauth/callback`], grant_types: ['authorization_code'], response_types: ['code'] },
      ],
      accounts: ACCOUNTS,
    });
    sessionBuddy = await spawnApp('session-buddy', {
      SESSION_BUDDY_SECRET: secret,
      SESSION_BUDDY_DATA_DIR: mkdtempSync(join(tmpdir(), 'upstream-sb-')),
      SESSION_BUDDY_AUTHORIZATION_SERVER: `http://127.0.0.1:${orchestratorPort}`,
    });
    orchestratorEnv = {
      ORCHESTRATOR_AUTH_SECRET: secret,
      ORCHESTRATOR_SESSION_BUDDY_URL: sessionBuddy.mcpUrl,
      ORCHESTRATOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'upstream-orch-')),
      ORCHESTRATOR_LOGIN_OIDC_ISSUER: idp.issuer,
      ORCHESTRATOR_LOGIN_OIDC_CLIENT_ID: UPSTREAM.client_id,
      ORCHESTRATOR_LOGIN_OIDC_CLIENT_SECRET: UPSTREAM.client_secret,
      ORCHESTRATOR_LOGIN_OIDC_SUBJECT_CLAIM: 'email',
      ORCHESTRATOR_LOGIN_OIDC_ROLE_MAP: 'engineering=developer,platform-admins=admin',
      ORCHESTRATOR_LOGIN_OIDC_ALLOW_LOOPBACK_HTTP: 'true',
    };
    orchestrator = await spawnApp('orchestrator', orchestratorEnv, orchestratorPort);
    expect(await addDesktopApp(orchestrator.mcpUrl, secret, sessionBuddy.mcpUrl, 'read write delete admin')).toBe(0);
    listener = await redirectListener();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
    listener?.server.close();
    await orchestrator?.stop();
    await sessionBuddy?.stop();
    await idp?.stop();
  });

  it("signs alice in at her organisation's provider; the orchestrator issues its own token, with her group's role, that session-buddy accepts", async () => {
    const { url, verifier } = authorizeUrl('upstream-alice', 'read write delete');
    const page = await browser.newPage();
    await page.goto(url);
    expect(new URL(page.url()).origin).toBe(idp.issuer);
    await signInUpstream(page, 'alice');
    await page.waitForSelector('text=Desktop App wants to act for you');
    expect(await page.textContent('body')).toContain('alice@acme.example');
    // developer: read and write, not delete.
    expect(await page.textContent('body')).not.toContain('delete');
    // The orchestrator's own /oauth/callback is where the consent page is; wait for the client's.
    await page.waitForLoadState('networkidle');
    await Promise.all([page.waitForURL((u) => u.port === String(listener.port)), page.click('button[value=approve]')]);
    const back = listener.received.find((u) => u.searchParams.get('state') === 'upstream-alice') as URL;
    expect(back.searchParams.get('iss')).toBe(orchestrator.url);
    const granted = await postForm(`${orchestrator.url}/oauth/token`, {
      grant_type: 'authorization_code',
      code: back.searchParams.get('code') as string,
      client_id: 'desktop-app',
      redirect_uri: listener.url,
      code_verifier: verifier,
    });
    expect(granted.status).toBe(200);
    const token = ((await granted.json()) as { access_token: string; scope: string }).access_token;
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: orchestrator.url, sub: 'alice@acme.example', scope: 'read write' });
    const client = await connect(sessionBuddy.mcpUrl, token);
    expect(structured(await client.callTool({ name: 'start', arguments: { project: 'upstream' } }))).toMatchObject({ owner: 'alice@acme.example' });
    await client.close();
    await page.close();
    const users = await cli(['user', 'list', '--url', orchestrator.mcpUrl], { CROSSAUTH_SECRET: secret });
    expect(users.out).toContain('alice@acme.example');
  });

  it('a person in an admin group gets admin; a person in no mapped group gets no access and no account', async () => {
    const page = await browser.newPage();
    await page.goto(authorizeUrl('upstream-root', 'read admin').url);
    await signInUpstream(page, 'root');
    await page.waitForSelector('text=Desktop App wants to act for you');
    expect(await page.textContent('body')).toContain('admin');
    await page.close();

    const bobPage = await browser.newPage();
    await bobPage.goto(authorizeUrl('upstream-bob').url);
    await signInUpstream(bobPage, 'bob');
    await bobPage.waitForSelector('text=no group that has access here');
    expect(listener.received.some((u) => u.searchParams.get('state') === 'upstream-bob')).toBe(false);
    expect(denials()).toContainEqual(expect.objectContaining({ reason: 'no_role', issuer: idp.issuer }));
    await bobPage.close();
    expect((await cli(['user', 'list', '--url', orchestrator.mcpUrl], { CROSSAUTH_SECRET: secret })).out).not.toContain('bob@');
  });

  it('refuses an email the provider has not verified when email is the subject claim', async () => {
    const page = await browser.newPage();
    await page.goto(authorizeUrl('upstream-carol').url);
    await signInUpstream(page, 'carol');
    await page.waitForSelector('text=no verified email address');
    expect(denials()).toContainEqual(expect.objectContaining({ reason: 'upstream_login_unmapped' }));
    await page.close();
  });

  it('refuses a callback that did not start in this browser (no sealed login cookie, or a forged one)', async () => {
    const callback = `${orchestrator.url}/oauth/callback?code=stolen&state=whatever&iss=${encodeURIComponent(idp.issuer)}`;
    for (const cookie of [undefined, 'crossauth_oidc=v1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA']) {
      const res = await fetch(callback, cookie ? { headers: { cookie } } : {});
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('has expired or did not start in this browser');
    }
    expect(denials()).toContainEqual(expect.objectContaining({ reason: 'upstream_login_expired' }));
  });

  it('has no password form: a posted login is refused', async () => {
    const params = Object.fromEntries(new URL(authorizeUrl('password-attempt').url).searchParams);
    const res = await postForm(`${orchestrator.url}/oauth/authorize`, { ...params, step: 'login', username: 'alice@acme.example', password: 'x' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('The form was not one of ours');
    expect(listener.received.some((u) => u.searchParams.get('state') === 'password-attempt')).toBe(false);
  });

  it.each([
    ['no role map', { ORCHESTRATOR_LOGIN_OIDC_ROLE_MAP: '' }, /ORCHESTRATOR_LOGIN_OIDC_ROLE_MAP is required/],
    [
      'a role map naming an unknown role',
      { ORCHESTRATOR_LOGIN_OIDC_ROLE_MAP: 'engineering=superuser' },
      /ORCHESTRATOR_LOGIN_OIDC_ROLE_MAP: each entry is group=role/,
    ],
    [
      'plain http to the provider without the development switch',
      { ORCHESTRATOR_LOGIN_OIDC_ALLOW_LOOPBACK_HTTP: 'false' },
      /ORCHESTRATOR_LOGIN_OIDC_ALLOW_LOOPBACK_HTTP=true/,
    ],
    ['a redirect that is not the callback', { ORCHESTRATOR_LOGIN_OIDC_REDIRECT: 'http://127.0.0.1:1/elsewhere' }, /ORCHESTRATOR_LOGIN_OIDC_REDIRECT/],
  ])('refuses to start with %s, naming the variable and not the secret', async (_name, env, message) => {
    const { code, output } = await runToExit('orchestrator', {
      ...orchestratorEnv,
      ORCHESTRATOR_PORT: String(await freePort()),
      ORCHESTRATOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'upstream-bad-')),
      ...env,
    });
    expect(code).not.toBe(0);
    expect(output).toMatch(message);
    expect(output).not.toContain(UPSTREAM.client_secret);
  });
});
