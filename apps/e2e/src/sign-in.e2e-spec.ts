import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './support/cli';
import { freePort, spawnApp, type RunningApp } from './support/spawn-app';
import { connect, newSecret, structured } from './support/tokens';
import { waitFor } from './support/wait';

const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'http://127.0.0.1/callback';

/** A browser as far as these pages need one: a cookie jar and no automatic redirects. */
class Browser {
  private readonly jar = new Map<string, string>();

  async go(url: string, form?: Record<string, string>): Promise<{ status: number; html: string; location: string | null; headers: Headers }> {
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), cookie: [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ') },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, value] = (pair as string).split('=') as [string, string];
      if (value) this.jar.set(name, value);
      else this.jar.delete(name);
    }
    return { status: res.status, html: await res.text(), location: res.headers.get('location'), headers: res.headers };
  }

  has(cookie: string): boolean {
    return this.jar.has(cookie);
  }
}

/** The hidden fields and CSRF token of the page's form, to submit it as a person would. */
function formOf(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    fields[m[1] as string] = (m[2] as string).replace(/&#(\d+);/g, (_x, n: string) => String.fromCharCode(Number(n)));
  return fields;
}

describe('people sign in: authorization code with PKCE, local accounts, consent', () => {
  const secret = newSecret();
  let sessionBuddy: RunningApp;
  let orchestrator: RunningApp;
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const admin = (args: string[], env: Record<string, string> = {}) => cli([...args, '--url', orchestrator.mcpUrl], { CROSSAUTH_SECRET: secret, ...env });
  const authorizeUrl = (overrides: Record<string, string | undefined> = {}) => {
    const params: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: 'desktop-app',
      redirect_uri: 'http://127.0.0.1:53124/callback',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'st-123',
      resource: sessionBuddy.mcpUrl,
      scope: 'read write',
      ...overrides,
    };
    const url = new URL(`${orchestrator.url}/oauth/authorize`);
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
    return url.toString();
  };
  const token = (fields: Record<string, string>) =>
    fetch(`${orchestrator.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  /** Signs in and approves; resolves the redirect the client receives. */
  const signInAndApprove = async (browser: Browser, url = authorizeUrl(), username = 'alice') => {
    const login = await browser.go(url);
    const consent = await browser.go(`${orchestrator.url}/oauth/authorize`, { ...formOf(login.html), username, password: PASSWORD });
    expect(consent.status).toBe(200);
    const answer = await browser.go(`${orchestrator.url}/oauth/authorize`, { ...formOf(consent.html), decision: 'approve' });
    return new URL(answer.location as string);
  };

  beforeAll(async () => {
    const orchestratorPort = await freePort();
    sessionBuddy = await spawnApp('session-buddy', {
      SESSION_BUDDY_SECRET: secret,
      SESSION_BUDDY_DATA_DIR: mkdtempSync(join(tmpdir(), 'signin-sb-')),
      SESSION_BUDDY_AUTHORIZATION_SERVER: `http://127.0.0.1:${orchestratorPort}`,
    });
    orchestrator = await spawnApp(
      'orchestrator',
      {
        ORCHESTRATOR_AUTH_SECRET: secret,
        ORCHESTRATOR_SESSION_BUDDY_URL: sessionBuddy.mcpUrl,
        ORCHESTRATOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'signin-orch-')),
      },
      orchestratorPort,
    );
    expect((await admin(['user', 'add', 'alice', '--role', 'developer'], { CROSSAUTH_USER_PASSWORD: PASSWORD })).code).toBe(0);
    expect((await admin(['user', 'add', 'vera', '--role', 'viewer'], { CROSSAUTH_USER_PASSWORD: PASSWORD })).code).toBe(0);
    const added = await admin([
      'client',
      'add',
      'desktop-app',
      '--public',
      '--name',
      'Desktop App',
      '--scope',
      'read write',
      '--resource',
      sessionBuddy.mcpUrl,
      '--redirect-uri',
      REDIRECT,
    ]);
    expect(added.code).toBe(0);
    expect(
      (await admin(['client', 'add', 'other-app', '--public', '--scope', 'read', '--resource', sessionBuddy.mcpUrl, '--redirect-uri', REDIRECT])).code,
    ).toBe(0);
  });
  afterAll(async () => {
    await orchestrator.stop();
    await sessionBuddy.stop();
  });

  it('advertises the flow it serves (RFC 8414): code, S256, iss in responses, public clients', async () => {
    const metadata = (await (await fetch(`${orchestrator.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      grant_types_supported: expect.arrayContaining(['authorization_code', 'client_credentials']),
      token_endpoint_auth_methods_supported: expect.arrayContaining(['none']),
    });
  });

  it('signs a person in, asks their consent naming client, redirect host, resource and scopes, and gives the client a token that works at session-buddy', async () => {
    const browser = new Browser();
    const login = await browser.go(authorizeUrl());
    expect(login.status).toBe(200);
    expect(login.html).toContain('Sign in to continue to Desktop App');
    expect(login.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(login.headers.get('content-security-policy')).not.toMatch(/script-src/);
    expect(login.headers.get('x-frame-options')).toBe('DENY');
    expect(login.headers.get('cache-control')).toBe('no-store');
    const consent = await browser.go(`${orchestrator.url}/oauth/authorize`, { ...formOf(login.html), username: 'Alice', password: PASSWORD });
    expect(consent.status).toBe(200);
    expect(browser.has('crossauth_session')).toBe(true);
    expect(consent.html).toContain('Desktop App wants to act for you');
    expect(consent.html).toContain('127.0.0.1:53124');
    expect(consent.html).toContain(sessionBuddy.mcpUrl);
    expect(consent.html).toMatch(/<strong>read<\/strong>[\s\S]*<strong>write<\/strong>/);
    const answer = await browser.go(`${orchestrator.url}/oauth/authorize`, { ...formOf(consent.html), decision: 'approve' });
    expect(answer.status).toBe(302);
    const redirect = new URL(answer.location as string);
    expect(`${redirect.origin}${redirect.pathname}`).toBe('http://127.0.0.1:53124/callback');
    expect(redirect.searchParams.get('state')).toBe('st-123');
    expect(redirect.searchParams.get('iss')).toBe(orchestrator.url);
    const code = redirect.searchParams.get('code') as string;

    const granted = await token({
      grant_type: 'authorization_code',
      code,
      client_id: 'desktop-app',
      redirect_uri: 'http://127.0.0.1:53124/callback',
      code_verifier: verifier,
      resource: sessionBuddy.mcpUrl,
    });
    expect(granted.status).toBe(200);
    const body = (await granted.json()) as { access_token: string; scope: string; token_type: string };
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'read write' });
    const client = await connect(sessionBuddy.mcpUrl, body.access_token);
    expect(structured(await client.callTool({ name: 'start', arguments: { project: 'signed-in' } }))).toMatchObject({ owner: 'alice', project: 'signed-in' });
    await client.close();

    // The same code again is refused, and the token it gave stops working (RFC 9700 §4.5).
    const replay = await token({
      grant_type: 'authorization_code',
      code,
      client_id: 'desktop-app',
      redirect_uri: 'http://127.0.0.1:53124/callback',
      code_verifier: verifier,
    });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/already used/) });
    await waitFor("the replayed code's token refused at session-buddy", async () => {
      const res = await fetch(sessionBuddy.mcpUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${body.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
        }),
      });
      return res.status === 401 ? true : undefined;
    });
  });

  it("grants only what the person's role allows: a viewer asked for read write gets read", async () => {
    const redirect = await signInAndApprove(new Browser(), authorizeUrl(), 'vera');
    const granted = await token({
      grant_type: 'authorization_code',
      code: redirect.searchParams.get('code') as string,
      client_id: 'desktop-app',
      redirect_uri: 'http://127.0.0.1:53124/callback',
      code_verifier: verifier,
    });
    expect(((await granted.json()) as { scope: string }).scope).toBe('read');
  });

  it.each([
    ['an unregistered redirect URI', { redirect_uri: 'https://evil.example/callback' }],
    ['a non-loopback http redirect URI', { redirect_uri: 'http://evil.example/callback' }],
    ['a registered redirect with another path', { redirect_uri: 'http://127.0.0.1:53124/callback/../steal' }],
    ['an unknown client', { client_id: 'nobody' }],
    ['no client', { client_id: undefined }],
  ])('answers %s on its own error page, never redirecting', async (_name, overrides) => {
    const res = await new Browser().go(authorizeUrl(overrides));
    expect(res.status).toBe(400);
    expect(res.location).toBeNull();
    expect(res.html).toContain('This sign-in request cannot continue');
  });

  it.each([
    ['no code_challenge', { code_challenge: undefined }, 'invalid_request', /code_challenge is required/],
    ['the plain PKCE method', { code_challenge_method: 'plain', code_challenge: verifier }, 'invalid_request', /plain is not accepted/],
    ['no code_challenge_method', { code_challenge_method: undefined }, 'invalid_request', /code_challenge_method is required/],
    ['a response_type other than code', { response_type: 'token' }, 'unsupported_response_type', /must be code/],
    ['no resource', { resource: undefined }, 'invalid_target', /resource is required/],
    ['an unregistered resource', { resource: 'http://127.0.0.1:1/mcp' }, 'invalid_target', /not registered/],
    ['a scope the client may not have', { scope: 'read admin' }, 'invalid_scope', /may not ask for admin/],
  ])('redirects back with an error, the state and iss, for %s', async (_name, overrides, error, description) => {
    const res = await new Browser().go(authorizeUrl(overrides));
    expect(res.status).toBe(302);
    const back = new URL(res.location as string);
    expect(back.searchParams.get('error')).toBe(error);
    expect(back.searchParams.get('error_description')).toMatch(description);
    expect(back.searchParams.get('state')).toBe('st-123');
    expect(back.searchParams.get('iss')).toBe(orchestrator.url);
  });

  it('refuses a wrong password with the same words as an unknown user, and sets no session', async () => {
    for (const [username, password] of [
      ['alice', 'wrong password entirely'],
      ['nobody', PASSWORD],
    ]) {
      const browser = new Browser();
      const login = await browser.go(authorizeUrl());
      const res = await browser.go(`${orchestrator.url}/oauth/authorize`, {
        ...formOf(login.html),
        username: username as string,
        password: password as string,
      });
      expect(res.status).toBe(401);
      expect(res.html).toContain('The username or password is not right.');
      expect(browser.has('crossauth_session')).toBe(false);
      expect(res.html).not.toContain(password as string);
    }
  });

  it('refuses a login or consent form without its CSRF token', async () => {
    const browser = new Browser();
    const login = await browser.go(authorizeUrl());
    const noCsrf = await browser.go(`${orchestrator.url}/oauth/authorize`, { ...formOf(login.html), csrf: '', username: 'alice', password: PASSWORD });
    expect(noCsrf.status).toBe(400);
    expect(browser.has('crossauth_session')).toBe(false);
    const consent = await browser.go(`${orchestrator.url}/oauth/authorize`, {
      ...formOf((await browser.go(authorizeUrl())).html),
      username: 'alice',
      password: PASSWORD,
    });
    const forged = await browser.go(`${orchestrator.url}/oauth/authorize`, { ...formOf(consent.html), csrf: 'x'.repeat(43), decision: 'approve' });
    expect(forged.status).toBe(403);
    expect(forged.location).toBeNull();
  });

  it('sends access_denied back when the person denies', async () => {
    const browser = new Browser();
    const login = await browser.go(authorizeUrl());
    const consent = await browser.go(`${orchestrator.url}/oauth/authorize`, { ...formOf(login.html), username: 'alice', password: PASSWORD });
    const denied = await browser.go(`${orchestrator.url}/oauth/authorize`, { ...formOf(consent.html), decision: 'deny' });
    expect(new URL(denied.location as string).searchParams.get('error')).toBe('access_denied');
  });

  it.each<[string, (code: string) => Record<string, string>, RegExp]>([
    [
      'a wrong code_verifier',
      (code) => ({ code, client_id: 'desktop-app', redirect_uri: 'http://127.0.0.1:53124/callback', code_verifier: randomBytes(32).toString('base64url') }),
      /does not match/,
    ],
    ['no code_verifier', (code) => ({ code, client_id: 'desktop-app', redirect_uri: 'http://127.0.0.1:53124/callback' }), /code_verifier is required/],
    [
      'another client',
      (code) => ({ code, client_id: 'other-app', redirect_uri: 'http://127.0.0.1:53124/callback', code_verifier: verifier }),
      /another client/,
    ],
    [
      'another redirect_uri',
      (code) => ({ code, client_id: 'desktop-app', redirect_uri: 'http://127.0.0.1:9/callback', code_verifier: verifier }),
      /redirect_uri differs/,
    ],
    [
      'another resource',
      (code) => ({ code, client_id: 'desktop-app', redirect_uri: 'http://127.0.0.1:53124/callback', code_verifier: verifier, resource: orchestrator.mcpUrl }),
      /resource differs/,
    ],
  ])('refuses a code redeemed with %s (invalid_grant)', async (_name, fields, description) => {
    const redirect = await signInAndApprove(new Browser());
    const res = await token({ grant_type: 'authorization_code', ...fields(redirect.searchParams.get('code') as string) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(description) });
  });

  it('refuses a public client at the token endpoint without a code grant, and an unknown public client', async () => {
    expect((await token({ grant_type: 'client_credentials', client_id: 'desktop-app' })).status).toBe(401);
    expect(await (await token({ grant_type: 'authorization_code', client_id: 'nobody', code: 'x' })).json()).toMatchObject({ error: 'invalid_client' });
  });
});
