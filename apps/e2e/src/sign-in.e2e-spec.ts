import { createHash, randomBytes } from 'node:crypto';
import { cli } from './support/cli';
import { postForm } from './support/redirect-listener';
import { FormBrowser, formOf } from './support/form-browser';
import { spawnApp, startPair, type RunningApp } from './support/spawn-app';
import { connect, initializeBody, newSecret, postMcp, structured } from './support/tokens';
import { waitFor } from './support/wait';

const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'http://127.0.0.1/callback';

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
  const token = (fields: Record<string, string>) => postForm(`${orchestrator.url}/oauth/token`, fields);
  /** Signs in and approves; resolves the redirect the client receives. */
  const signInAndApprove = async (browser: FormBrowser, url = authorizeUrl(), username = 'alice') => {
    const login = await browser.go(url);
    const consent = await browser.go(`${orchestrator.url}/oauth/authorize`, { ...formOf(login.html), username, password: PASSWORD });
    // An approval this person already gave for these scopes is remembered: the code comes at once.
    if (consent.status === 302) return new URL(consent.location as string);
    expect(consent.status).toBe(200);
    const answer = await browser.go(`${orchestrator.url}/oauth/authorize`, { ...formOf(consent.html), decision: 'approve' });
    return new URL(answer.location as string);
  };

  /** Redeems the code in a redirect; resolves the token response. */
  const redeem = async (redirect: URL) => {
    const res = await token({
      grant_type: 'authorization_code',
      code: redirect.searchParams.get('code') as string,
      client_id: 'desktop-app',
      redirect_uri: 'http://127.0.0.1:53124/callback',
      code_verifier: verifier,
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { access_token: string; refresh_token: string; scope: string; expires_in: number };
  };
  const refresh = (refreshToken: string, clientId = 'desktop-app', extra: Record<string, string> = {}) =>
    token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, ...extra });
  /** Whether session-buddy accepts the access token (an initialize answered, not a 401). */
  const accepted = async (accessToken: string) =>
    (await postMcp(sessionBuddy.mcpUrl, initializeBody, { authorization: `Bearer ${accessToken}` })).status !== 401;

  beforeAll(async () => {
    ({ sessionBuddy, orchestrator } = await startPair(secret, 'signin'));
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
    await orchestrator?.stop();
    await sessionBuddy?.stop();
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
    const browser = new FormBrowser();
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
    const redirect = await signInAndApprove(new FormBrowser(), authorizeUrl(), 'vera');
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
    const res = await new FormBrowser().go(authorizeUrl(overrides));
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
    const res = await new FormBrowser().go(authorizeUrl(overrides));
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
      const browser = new FormBrowser();
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

  it('throttles password guessing: past the limit, 429 with Retry-After, even for the right password', async () => {
    const strict = await spawnApp('orchestrator', {
      ORCHESTRATOR_AUTH_SECRET: secret,
      ORCHESTRATOR_AUTH_FAILURE_LIMIT: '3',
      ORCHESTRATOR_AUTH_FAILURE_BLOCK_SECONDS: '30',
    });
    try {
      const at = (cmd: string[], env: Record<string, string> = {}) => cli([...cmd, '--url', strict.mcpUrl], { CROSSAUTH_SECRET: secret, ...env });
      expect((await at(['user', 'add', 'gina'], { CROSSAUTH_USER_PASSWORD: PASSWORD })).code).toBe(0);
      expect(
        (await at(['client', 'add', 'desktop-app', '--public', '--scope', 'read write', '--resource', sessionBuddy.mcpUrl, '--redirect-uri', REDIRECT])).code,
      ).toBe(0);
      const attempt = async (password: string) => {
        const browser = new FormBrowser();
        const login = await browser.go(authorizeUrl().replace(orchestrator.url, strict.url));
        return browser.go(`${strict.url}/oauth/authorize`, { ...formOf(login.html), username: 'gina', password });
      };
      const statuses: number[] = [];
      // Three failures are allowed in the window; the fourth blocks the account and the address.
      for (let i = 0; i < 4; i++) statuses.push((await attempt('not the password at all')).status);
      expect(statuses).toEqual([401, 401, 401, 401]);
      const blocked = await attempt(PASSWORD);
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(blocked.html).toMatch(/Too many failed sign-ins; try again in \d+ s/);
    } finally {
      await strict.stop();
    }
  });

  it('refuses a login or consent form without its CSRF token', async () => {
    const browser = new FormBrowser();
    const login = await browser.go(authorizeUrl({ prompt: 'consent' }));
    const noCsrf = await browser.go(`${orchestrator.url}/oauth/authorize`, { ...formOf(login.html), csrf: '', username: 'alice', password: PASSWORD });
    expect(noCsrf.status).toBe(400);
    expect(browser.has('crossauth_session')).toBe(false);
    const consent = await browser.go(`${orchestrator.url}/oauth/authorize`, {
      ...formOf((await browser.go(authorizeUrl({ prompt: 'consent' }))).html),
      username: 'alice',
      password: PASSWORD,
    });
    const forged = await browser.go(`${orchestrator.url}/oauth/authorize`, { ...formOf(consent.html), csrf: 'x'.repeat(43), decision: 'approve' });
    expect(forged.status).toBe(403);
    expect(forged.location).toBeNull();
  });

  it('sends access_denied back when the person denies', async () => {
    const browser = new FormBrowser();
    const login = await browser.go(authorizeUrl({ prompt: 'consent' }));
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
    const redirect = await signInAndApprove(new FormBrowser());
    const res = await token({ grant_type: 'authorization_code', ...fields(redirect.searchParams.get('code') as string) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(description) });
  });

  it('refuses a public client at the token endpoint without a code grant, and an unknown public client', async () => {
    const machine = await token({ grant_type: 'client_credentials', client_id: 'desktop-app' });
    expect(machine.status).toBe(400);
    expect(await machine.json()).toMatchObject({ error: 'unauthorized_client', error_description: expect.stringMatching(/public client/) });
    expect(await (await token({ grant_type: 'authorization_code', client_id: 'nobody', code: 'x' })).json()).toMatchObject({ error: 'invalid_client' });
  });

  describe('grants: rotating refresh tokens, remembered consent, sign-out everywhere', () => {
    beforeAll(async () => {
      for (const name of ['rita', 'sam', 'tess'])
        expect((await admin(['user', 'add', name, '--role', 'developer'], { CROSSAUTH_USER_PASSWORD: PASSWORD })).code).toBe(0);
    });

    it('advertises refresh_token and offline_access (SEP-2207), which session-buddy never asks for', async () => {
      const metadata = (await (await fetch(`${orchestrator.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, string[]>;
      expect(metadata['grant_types_supported']).toContain('refresh_token');
      expect(metadata['scopes_supported']).toContain('offline_access');
      expect(metadata['revocation_endpoint_auth_methods_supported']).toContain('none');
      const prm = (await (await fetch(`${sessionBuddy.url}/.well-known/oauth-protected-resource/mcp`)).json()) as { scopes_supported: string[] };
      expect(prm.scopes_supported).not.toContain('offline_access');
      const challenge = (await postMcp(sessionBuddy.mcpUrl, initializeBody)).headers.get('www-authenticate') ?? '';
      expect(challenge).not.toContain('offline_access');
    });

    it('rotates the refresh token on every use; an older one coming back revokes the grant and its live access tokens', async () => {
      const first = await redeem(await signInAndApprove(new FormBrowser(), authorizeUrl({ scope: 'read write offline_access' }), 'rita'));
      expect(first.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(first.scope).toBe('read write');
      const second = await refresh(first.refresh_token);
      expect(second.status).toBe(200);
      expect(second.headers.get('cache-control')).toBe('no-store');
      const rotated = (await second.json()) as { access_token: string; refresh_token: string; scope: string };
      expect(rotated.refresh_token).not.toBe(first.refresh_token);
      const client = await connect(sessionBuddy.mcpUrl, rotated.access_token);
      expect(structured(await client.callTool({ name: 'start', arguments: { project: 'refreshed' } }))).toMatchObject({ owner: 'rita' });
      await client.close();
      const third = (await (await refresh(rotated.refresh_token)).json()) as { access_token: string; refresh_token: string };

      const reused = await refresh(first.refresh_token);
      expect(reused.status).toBe(400);
      expect(await reused.json()).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/already replaced; its grant is revoked/) });
      expect(await (await refresh(third.refresh_token)).json()).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/revoked/) });
      await waitFor('the revoked grant’s access tokens refused at session-buddy', async () => ((await accepted(third.access_token)) ? undefined : true));
      expect(await accepted(rotated.access_token)).toBe(false);
    });

    it('keeps a parallel refresh working: the token just replaced is good until its replacement is used', async () => {
      const first = await redeem(await signInAndApprove(new FormBrowser(), authorizeUrl(), 'sam'));
      const [a, b] = await Promise.all([refresh(first.refresh_token), refresh(first.refresh_token)]);
      expect([a.status, b.status]).toEqual([200, 200]);
      const kept = (await b.json()) as { refresh_token: string };
      expect((await refresh(kept.refresh_token)).status).toBe(200);
    });

    it.each<[string, (refreshToken: string) => Record<string, string>, number, string, RegExp]>([
      ['presented by another client', () => ({ client_id: 'other-app' }), 400, 'invalid_grant', /another client; its grant is revoked/],
      ['with a scope the grant lacks', () => ({ scope: 'read admin' }), 400, 'invalid_scope', /does not include admin/],
      ['for another resource', () => ({ resource: orchestrator.mcpUrl }), 400, 'invalid_target', /this grant is for/],
      ['tampered with', (t) => ({ refresh_token: `${t.slice(0, -2)}AA` }), 400, 'invalid_grant', /not valid/],
      ['by an unregistered client id', () => ({ client_id: 'robot-without-secret' }), 401, 'invalid_client', /client authentication failed/],
    ])('refuses a refresh token %s', async (_name, change, status, error, description) => {
      const first = await redeem(await signInAndApprove(new FormBrowser(), authorizeUrl(), 'sam'));
      const fields = { grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: 'desktop-app', ...change(first.refresh_token) };
      const res = await token(fields);
      expect(res.status).toBe(status);
      expect(await res.json()).toMatchObject({ error, error_description: expect.stringMatching(description) });
    });

    it('narrows scopes on a refresh when asked, and to the role the person has now', async () => {
      const first = await redeem(await signInAndApprove(new FormBrowser(), authorizeUrl(), 'tess'));
      expect(((await (await refresh(first.refresh_token, 'desktop-app', { scope: 'read' })).json()) as { scope: string }).scope).toBe('read');
      const second = (await redeem(await signInAndApprove(new FormBrowser(), authorizeUrl(), 'tess'))) as { refresh_token: string };
      expect((await admin(['user', 'set-role', 'tess', '--role', 'viewer'])).code).toBe(0);
      expect(((await (await refresh(second.refresh_token)).json()) as { scope: string }).scope).toBe('read');
      expect((await admin(['user', 'set-role', 'tess', '--role', 'developer'])).code).toBe(0);
    });

    it('remembers consent: the same or fewer scopes need no page, more scopes and prompt=consent ask again', async () => {
      expect((await admin(['user', 'add', 'uma', '--role', 'developer'], { CROSSAUTH_USER_PASSWORD: PASSWORD })).code).toBe(0);
      const browser = new FormBrowser();
      await signInAndApprove(browser, authorizeUrl({ scope: 'read' }), 'uma');
      const again = await browser.go(authorizeUrl({ scope: 'read' }));
      expect(again.status).toBe(302);
      expect(new URL(again.location as string).searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const more = await browser.go(authorizeUrl({ scope: 'read write' }));
      expect(more.status).toBe(200);
      expect(more.html).toContain('wants to act for you');
      const forced = await browser.go(authorizeUrl({ scope: 'read', prompt: 'consent' }));
      expect(forced.status).toBe(200);
      expect(forced.html).toContain('wants to act for you');
      const silent = await browser.go(authorizeUrl({ scope: 'read write', prompt: 'none' }));
      expect(new URL(silent.location as string).searchParams.get('error')).toBe('consent_required');
      const stranger = await new FormBrowser().go(authorizeUrl({ prompt: 'none' }));
      expect(new URL(stranger.location as string).searchParams.get('error')).toBe('login_required');
    });

    it('revokes a grant by its refresh token for a public client (RFC 7009), and not for another client', async () => {
      const first = await redeem(await signInAndApprove(new FormBrowser(), authorizeUrl(), 'sam'));
      const revoke = (clientId: string) =>
        fetch(`${orchestrator.url}/oauth/revoke`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token: first.refresh_token, token_type_hint: 'refresh_token', client_id: clientId }).toString(),
        });
      expect((await revoke('other-app')).status).toBe(200);
      expect((await refresh(first.refresh_token)).status).toBe(200);
      const fresh = await redeem(await signInAndApprove(new FormBrowser(), authorizeUrl(), 'sam'));
      const mine = await fetch(`${orchestrator.url}/oauth/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: fresh.refresh_token, client_id: 'desktop-app' }).toString(),
      });
      expect(mine.status).toBe(200);
      expect(await (await refresh(fresh.refresh_token)).json()).toMatchObject({ error: 'invalid_grant' });
      await waitFor('the revoked grant’s access token refused', async () => ((await accepted(fresh.access_token)) ? undefined : true));
    });

    it('lists and revokes grants, and signs a person out everywhere: grants, live tokens and browser sign-ins end', async () => {
      expect((await admin(['user', 'add', 'will', '--role', 'developer'], { CROSSAUTH_USER_PASSWORD: PASSWORD })).code).toBe(0);
      const browser = new FormBrowser();
      const one = await redeem(await signInAndApprove(browser, authorizeUrl(), 'will'));
      const two = await redeem(await signInAndApprove(new FormBrowser(), authorizeUrl(), 'will'));
      const listed = await admin(['grants', 'list', '--user', 'will']);
      expect(listed.code).toBe(0);
      const ids = [...listed.out.matchAll(/^([0-9a-f-]{36})\s+will\s+desktop-app/gm)].map((m) => m[1] as string);
      expect(ids).toHaveLength(2);
      expect(listed.out).not.toContain(one.refresh_token);

      // Newest first: the second sign-in's grant.
      const revoked = await admin(['grants', 'revoke', ids[0] as string]);
      expect(revoked.code).toBe(0);
      expect(revoked.out).toContain('revoked grant');
      expect((await admin(['grants', 'revoke', ids[0] as string])).code).not.toBe(0);
      expect((await admin(['grants', 'list', '--user', 'will'])).out.match(/will\s+desktop-app/g)).toHaveLength(1);
      expect(await (await refresh(two.refresh_token)).json()).toMatchObject({ error: 'invalid_grant' });
      await waitFor('the revoked grant’s access token refused', async () => ((await accepted(two.access_token)) ? undefined : true));

      expect(await accepted(one.access_token)).toBe(true);
      const out = await admin(['user', 'sign-out-everywhere', 'will']);
      expect(out.code).toBe(0);
      expect(out.out).toMatch(/signed out everywhere; \d+ grant\(s\) revoked/);
      expect(out.out).toContain(`${sessionBuddy.mcpUrl}: confirmed`);
      // Confirmed by session-buddy before the command returned: refused now, not eventually.
      expect(await accepted(one.access_token)).toBe(false);
      expect(await (await refresh(one.refresh_token)).json()).toMatchObject({ error: 'invalid_grant' });
      const back = await browser.go(authorizeUrl());
      expect(back.status).toBe(200);
      expect(back.html).toContain('Sign in to continue');
      expect((await admin(['grants', 'list', '--user', 'will'])).out).toContain('no live grants');
    });

    it('removing a person ends their grants and live tokens', async () => {
      expect((await admin(['user', 'add', 'xena', '--role', 'developer'], { CROSSAUTH_USER_PASSWORD: PASSWORD })).code).toBe(0);
      const granted = await redeem(await signInAndApprove(new FormBrowser(), authorizeUrl(), 'xena'));
      const removed = await admin(['user', 'remove', 'xena']);
      expect(removed.code).toBe(0);
      expect(removed.out).toMatch(/removed xena; 1 grant\(s\) revoked/);
      expect(await accepted(granted.access_token)).toBe(false);
      expect(await (await refresh(granted.refresh_token)).json()).toMatchObject({ error: 'invalid_grant' });
    });
  });
});
