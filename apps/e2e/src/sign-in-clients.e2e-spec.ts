import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
  UnauthorizedError,
  type OAuthClientMetadata,
  type OAuthClientProvider,
  type StoredOAuthClientInformation,
  type StoredOAuthTokens,
} from '@modelcontextprotocol/client';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { approveInPage } from './support/browser-sign-in';
import { cli } from './support/cli';
import { postForm, redirectListener } from './support/redirect-listener';
import { FormBrowser, formOf } from './support/form-browser';
import { httpsFixture } from './support/https-fixture';
import { WORKSPACE_ROOT, spawnApp, startPair, type RunningApp } from './support/spawn-app';
import { waitFor } from './support/wait';
import { connect, newSecret, structured } from './support/tokens';

const PASSWORD = 'correct horse battery staple';
const CHROMIUM = process.env['CROSSAUTH_TEST_CHROMIUM'] ?? '/usr/bin/chromium';
const REDIRECT = 'http://127.0.0.1:53124/callback';
const PYTHON = process.env['CROSSAUTH_TEST_PYTHON'] ?? join(WORKSPACE_ROOT, 'tmp', 'python-mcp', 'bin', 'python');

describe('clients people sign in through: metadata documents, dynamic registration, the MCP SDK', () => {
  const secret = newSecret();
  let sessionBuddy: RunningApp;
  let orchestrator: RunningApp;
  let fixture: Awaited<ReturnType<typeof httpsFixture>>;
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const clientUrl = (path: string) => `${fixture.base}${path}`;
  const serve = (path: string, document: Record<string, unknown>, headers: Record<string, string> = {}) =>
    fixture.routes.set(path, () => ({ body: JSON.stringify({ client_id: clientUrl(path), ...document }), headers }));
  const authorizeUrl = (clientId: string, overrides: Record<string, string> = {}) => {
    const url = new URL(`${orchestrator.url}/oauth/authorize`);
    const params = {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'cimd',
      resource: sessionBuddy.mcpUrl,
      scope: 'read write',
      ...overrides,
    };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return url.toString();
  };
  const token = (fields: Record<string, string>) => postForm(`${orchestrator.url}/oauth/token`, fields);

  beforeAll(async () => {
    fixture = await httpsFixture();
    ({ sessionBuddy, orchestrator } = await startPair(secret, 'cimd', {
      orchestrator: { NODE_EXTRA_CA_CERTS: fixture.caFile, ORCHESTRATOR_CLIENT_METADATA_ALLOW_LOOPBACK: 'true' },
    }));
    expect(
      (
        await cli(['user', 'add', 'alice', '--role', 'developer', '--url', orchestrator.mcpUrl], {
          CROSSAUTH_SECRET: secret,
          CROSSAUTH_USER_PASSWORD: PASSWORD,
        })
      ).code,
    ).toBe(0);
    serve('/desktop.json', { client_name: 'Example Desktop', redirect_uris: [REDIRECT] }, { 'cache-control': 'max-age=3600' });
  });
  afterAll(async () => {
    await orchestrator?.stop();
    await sessionBuddy?.stop();
    await fixture?.close();
  });

  it('advertises client_id_metadata_document_supported (RFC 8414 metadata)', async () => {
    const metadata = (await (await fetch(`${orchestrator.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(metadata['client_id_metadata_document_supported']).toBe(true);
  });

  it("signs a person in through it: consent names the document's client and the redirect host, the code and refresh work", async () => {
    const browser = new FormBrowser();
    const login = await browser.go(authorizeUrl(clientUrl('/desktop.json')));
    expect(login.status).toBe(200);
    expect(login.html).toContain('Sign in to continue to Example Desktop');
    const consent = await browser.go(`${orchestrator.url}/oauth/authorize`, { ...formOf(login.html), username: 'alice', password: PASSWORD });
    expect(consent.html).toContain('Example Desktop wants to act for you');
    expect(consent.html).toContain(clientUrl('/desktop.json'));
    expect(consent.html).toContain('127.0.0.1:53124');
    const answer = await browser.go(`${orchestrator.url}/oauth/authorize`, { ...formOf(consent.html), decision: 'approve' });
    const code = new URL(answer.location as string).searchParams.get('code') as string;
    const granted = await token({
      grant_type: 'authorization_code',
      code,
      client_id: clientUrl('/desktop.json'),
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    });
    expect(granted.status).toBe(200);
    const body = (await granted.json()) as { access_token: string; refresh_token: string };
    const client = await connect(sessionBuddy.mcpUrl, body.access_token);
    expect(structured(await client.callTool({ name: 'start', arguments: { project: 'cimd' } }))).toMatchObject({ owner: 'alice' });
    await client.close();
    expect((await token({ grant_type: 'refresh_token', refresh_token: body.refresh_token, client_id: clientUrl('/desktop.json') })).status).toBe(200);
    // Cached per its Cache-Control: one fetch served every step.
    expect(fixture.hits.filter((h) => h === '/desktop.json')).toHaveLength(1);
  });

  it.each<[string, () => string, RegExp]>([
    [
      'a redirect URI the document does not list',
      () => authorizeUrl(clientUrl('/desktop.json'), { redirect_uri: 'http://127.0.0.1:53124/other' }),
      /not one the client registered/,
    ],
    [
      'a document whose client_id differs from its URL',
      () => {
        fixture.routes.set('/liar.json', () => ({ body: JSON.stringify({ client_id: clientUrl('/desktop.json'), redirect_uris: [REDIRECT] }) }));
        return authorizeUrl(clientUrl('/liar.json'));
      },
      /client_id is not exactly the URL/,
    ],
    [
      'a document that redirects',
      () => {
        fixture.routes.set('/moved.json', () => ({ status: 301, headers: { location: '/desktop.json' } }));
        return authorizeUrl(clientUrl('/moved.json'));
      },
      /a redirect, which is not followed/,
    ],
    [
      'a document that is too large',
      () => {
        serve('/huge.json', { redirect_uris: [REDIRECT], padding: 'x'.repeat(8000) });
        return authorizeUrl(clientUrl('/huge.json'));
      },
      /larger than 5120 bytes/,
    ],
    [
      'a document asking for a client secret',
      () => {
        serve('/secret.json', { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_post' });
        return authorizeUrl(clientUrl('/secret.json'));
      },
      /client_secret_post is not offered/,
    ],
    ['an http client_id', () => authorizeUrl(clientUrl('/desktop.json').replace('https:', 'http:')), /not registered to sign people in/],
    ['a document that does not exist', () => authorizeUrl(clientUrl('/missing.json')), /HTTP 404/],
  ])('answers %s on its own error page, never redirecting', async (_name, url, reason) => {
    const res = await new FormBrowser().go(url());
    expect(res.status).toBe(400);
    expect(res.location).toBeNull();
    expect(res.html.replace(/&#39;/g, "'")).toMatch(reason);
  });

  it('refuses the code at the token endpoint for another document client', async () => {
    serve('/second.json', { client_name: 'Second', redirect_uris: [REDIRECT] });
    const browser = new FormBrowser();
    const login = await browser.go(authorizeUrl(clientUrl('/desktop.json'), { prompt: 'consent' }));
    const consent = await browser.go(`${orchestrator.url}/oauth/authorize`, { ...formOf(login.html), username: 'alice', password: PASSWORD });
    const answer = await browser.go(`${orchestrator.url}/oauth/authorize`, { ...formOf(consent.html), decision: 'approve' });
    const code = new URL(answer.location as string).searchParams.get('code') as string;
    const res = await token({ grant_type: 'authorization_code', code, client_id: clientUrl('/second.json'), redirect_uri: REDIRECT, code_verifier: verifier });
    expect(await res.json()).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/another client/) });
  });

  it('fetches nothing from loopback without the development switch', async () => {
    const strict = await spawnApp('orchestrator', { ORCHESTRATOR_AUTH_SECRET: secret, NODE_EXTRA_CA_CERTS: fixture.caFile });
    try {
      const before = fixture.hits.length;
      const url = new URL(authorizeUrl(clientUrl('/desktop.json')));
      const res = await new FormBrowser().go(`${strict.url}/oauth/authorize${url.search}`);
      expect(res.status).toBe(400);
      expect(res.html).toMatch(/loopback address, which is not fetched/);
      expect(fixture.hits.length).toBe(before);
    } finally {
      await strict.stop();
    }
  });

  describe('Dynamic Client Registration (RFC 7591) for clients without a document', () => {
    const register = (metadata: unknown, url = orchestrator.url, type = 'application/json') =>
      fetch(`${url}/oauth/register`, {
        method: 'POST',
        headers: { 'content-type': type },
        body: typeof metadata === 'string' ? metadata : JSON.stringify(metadata),
      });

    it('advertises its registration endpoint and registers a public client a person then signs in through', async () => {
      const metadata = (await (await fetch(`${orchestrator.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      expect(metadata['registration_endpoint']).toBe(`${orchestrator.url}/oauth/register`);
      const res = await register({
        client_name: 'Registered App',
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const registered = (await res.json()) as Record<string, unknown>;
      expect(registered).toMatchObject({
        client_id: expect.stringMatching(/^mcp-[0-9a-f]{32}$/),
        token_endpoint_auth_method: 'none',
        redirect_uris: [REDIRECT],
      });
      expect(registered).not.toHaveProperty('client_secret');
      const browser = new FormBrowser();
      const login = await browser.go(authorizeUrl(registered['client_id'] as string));
      expect(login.html).toContain('Sign in to continue to Registered App');
      const consent = await browser.go(`${orchestrator.url}/oauth/authorize`, { ...formOf(login.html), username: 'alice', password: PASSWORD });
      const answer = await browser.go(`${orchestrator.url}/oauth/authorize`, { ...formOf(consent.html), decision: 'approve' });
      const code = new URL(answer.location as string).searchParams.get('code') as string;
      const granted = await token({
        grant_type: 'authorization_code',
        code,
        client_id: registered['client_id'] as string,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      });
      expect(granted.status).toBe(200);
      // A registered public client is a person's app: no machine grant for it.
      expect((await token({ grant_type: 'client_credentials', client_id: registered['client_id'] as string })).status).toBe(400);
    });

    it.each<[string, unknown, string, RegExp]>([
      [
        'a confidential client',
        { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic' },
        'invalid_client_metadata',
        /public clients only/,
      ],
      ['a non-loopback http redirect', { redirect_uris: ['http://evil.example/cb'] }, 'invalid_redirect_uri', /loopback address/],
      ['no redirect URI', { client_name: 'x' }, 'invalid_redirect_uri', /1 to 20 are required/],
      ['a fragment in a redirect', { redirect_uris: ['https://app.example/cb#x'] }, 'invalid_redirect_uri', /fragment/],
      ['client_credentials', { redirect_uris: [REDIRECT], grant_types: ['client_credentials'] }, 'invalid_client_metadata', /grant_types/],
      ['the implicit response type', { redirect_uris: [REDIRECT], response_types: ['token'] }, 'invalid_client_metadata', /code only/],
      ['keys', { redirect_uris: [REDIRECT], jwks_uri: 'https://app.example/jwks' }, 'invalid_client_metadata', /keys are not registered/],
      ['an unknown scope', { redirect_uris: [REDIRECT], scope: 'read root' }, 'invalid_client_metadata', /not root/],
      ['a list that is not one', { redirect_uris: REDIRECT }, 'invalid_client_metadata', /list of strings/],
      ['a body that is not JSON', '{"redirect_uris":', 'invalid_client_metadata', /not JSON/],
      ['a body that is not an object', '[1,2]', 'invalid_client_metadata', /JSON object/],
    ])('refuses %s (400 with the RFC 7591 error)', async (_name, metadata, error, description) => {
      const res = await register(metadata);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error, error_description: expect.stringMatching(description) });
    });

    it('refuses a form body', async () => {
      const res = await register('redirect_uris=x', orchestrator.url, 'application/x-www-form-urlencoded');
      expect(await res.json()).toMatchObject({ error: 'invalid_client_metadata', error_description: expect.stringMatching(/application\/json/) });
    });

    it('applies its policy: allowed redirect forms, the hourly limit per address, and closed registration', async () => {
      const strict = await spawnApp('orchestrator', {
        ORCHESTRATOR_AUTH_SECRET: secret,
        ORCHESTRATOR_REGISTRATION_PER_HOUR: '2',
        ORCHESTRATOR_REGISTRATION_REDIRECTS: 'loopback',
      });
      const closed = await spawnApp('orchestrator', { ORCHESTRATOR_AUTH_SECRET: secret, ORCHESTRATOR_REGISTRATION: 'false' });
      try {
        expect(await (await register({ redirect_uris: ['https://app.example/cb'] }, strict.url)).json()).toMatchObject({
          error: 'invalid_redirect_uri',
          error_description: expect.stringMatching(/https redirect URIs are not registered here \(allowed: loopback\)/),
        });
        expect((await register({ redirect_uris: [REDIRECT] }, strict.url)).status).toBe(201);
        expect((await register({ redirect_uris: [REDIRECT] }, strict.url)).status).toBe(201);
        const over = await register({ redirect_uris: [REDIRECT] }, strict.url);
        expect(over.status).toBe(429);
        expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(await over.json()).toMatchObject({ error_description: expect.stringMatching(/at most 2 registrations per hour/) });

        expect((await register({ redirect_uris: [REDIRECT] }, closed.url)).status).toBe(403);
        const metadata = (await (await fetch(`${closed.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
        expect(metadata).not.toHaveProperty('registration_endpoint');
      } finally {
        await strict.stop();
        await closed.stop();
      }
    });
  });

  describe('the MCP SDK v2 client, given only session-buddy’s URL', () => {
    let browser: Browser;
    let listener: Awaited<ReturnType<typeof redirectListener>>;

    beforeAll(async () => {
      listener = await redirectListener();
      serve('/sdk-client.json', {
        client_name: 'SDK v2 client',
        redirect_uris: [listener.url],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    });
    afterAll(async () => {
      await browser?.close();
      listener?.server.close();
    });

    /** An app's provider glue around the SDK's OAuth client: it keeps what the SDK hands it, and remembers where it was sent to sign in. */
    const sdkProvider = (cimd: boolean) => {
      const state: { tokens?: StoredOAuthTokens; info?: StoredOAuthClientInformation; verifier: string; authorizationUrl?: URL } = { verifier: '' };
      const provider: OAuthClientProvider = {
        get redirectUrl() {
          return listener.url;
        },
        ...(cimd ? { clientMetadataUrl: clientUrl('/sdk-client.json') } : {}),
        get clientMetadata(): OAuthClientMetadata {
          return {
            client_name: 'SDK v2 client',
            redirect_uris: [listener.url],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
          };
        },
        clientInformation: () => state.info,
        saveClientInformation: (info) => {
          state.info = info;
        },
        tokens: () => state.tokens,
        saveTokens: (tokens) => {
          state.tokens = tokens;
        },
        redirectToAuthorization: (url) => {
          state.authorizationUrl = url;
        },
        saveCodeVerifier: (v) => {
          state.verifier = v;
        },
        codeVerifier: () => state.verifier,
      };
      const transport = () => new ModernTransport(new URL(sessionBuddy.mcpUrl), { authProvider: provider });
      const connectOnce = async () => {
        const client = new ModernClient({ name: 'sdk-v2', version: '1.0.0' });
        await client.connect(transport());
        return client;
      };
      return { provider, state, transport, connectOnce };
    };
    /** The person in the browser: signs in when asked, approves, and the SDK redeems what comes back. */
    const approveInBrowser = async (
      url: URL,
      username: string,
      finish: (params: URLSearchParams) => Promise<void>,
      context?: BrowserContext,
      clientName = 'SDK v2 client',
    ) => {
      const page = await (context ?? browser).newPage();
      await approveInPage(page, url.toString(), username, PASSWORD, clientName);
      await page.close();
      await finish((listener.received.filter((u) => u.pathname === '/callback').at(-1) as URL).searchParams);
    };

    it.each([
      ['its clientMetadataUrl (CIMD)', 'sdk-cimd', true],
      ['no metadata document (it registers dynamically)', 'sdk-dcr', false],
    ])('with %s: discovers, signs in through the browser, calls tools, refreshes, and is refused after sign-out-everywhere', async (_how, username, cimd) => {
      expect((await cli(['user', 'add', username, '--url', orchestrator.mcpUrl], { CROSSAUTH_SECRET: secret, CROSSAUTH_USER_PASSWORD: PASSWORD })).code).toBe(
        0,
      );
      const { state, transport, connectOnce } = sdkProvider(cimd);
      const first = transport();
      await expect(new ModernClient({ name: 'sdk-v2', version: '1.0.0' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
      const clientId = state.authorizationUrl?.searchParams.get('client_id');
      if (cimd) expect(clientId).toBe(clientUrl('/sdk-client.json'));
      else expect(clientId).toMatch(/^mcp-[0-9a-f]{32}$/);
      expect(state.authorizationUrl?.searchParams.get('resource')).toBe(sessionBuddy.mcpUrl);
      await approveInBrowser(state.authorizationUrl as URL, username, (params) => first.finishAuth(params));
      expect(state.tokens?.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);

      const client = await connectOnce();
      expect(structured(await client.callTool({ name: 'start', arguments: { project: username } }))).toMatchObject({ owner: username });
      await client.close();

      // The access token expires (here: is made to look expired); the SDK refreshes with the rotating refresh token.
      const previousRefresh = state.tokens?.refresh_token;
      state.tokens = { ...(state.tokens as StoredOAuthTokens), access_token: 'expired.access.token' };
      const again = await connectOnce();
      expect(structured(await again.callTool({ name: 'list_sessions', arguments: {} }))).toMatchObject({ sessions: expect.any(Array) });
      await again.close();
      expect(state.tokens?.refresh_token).not.toBe(previousRefresh);

      expect((await cli(['user', 'sign-out-everywhere', username, '--url', orchestrator.mcpUrl], { CROSSAUTH_SECRET: secret })).code).toBe(0);
      // Its access token is refused at session-buddy and its refresh token at the orchestrator: the SDK surfaces invalid_grant.
      await expect(
        (async () => {
          const after = await connectOnce();
          await after.callTool({ name: 'list_sessions', arguments: {} });
        })(),
      ).rejects.toMatchObject({ code: 'invalid_grant', message: expect.stringMatching(/revoked/) });
    });

    it('the official Python mcp client signs in the same way, refreshes once its token expires, and is sent back to sign in after sign-out-everywhere', async () => {
      // Its own pair: access tokens that expire in 5 s, so the client's refresh is a real one.
      const pair = await startPair(secret, 'python-oauth', { orchestrator: { ORCHESTRATOR_OAUTH_TOKEN_TTL_SECONDS: '5' } });
      const child = spawn(PYTHON, [join(__dirname, 'support', 'python-oauth-client.py'), pair.sessionBuddy.mcpUrl, listener.url], {
        env: { PATH: process.env['PATH'] ?? '' },
      });
      const messages: Array<Record<string, unknown>> = [];
      createInterface({ input: child.stdout }).on('line', (line) => messages.push(JSON.parse(line) as Record<string, unknown>));
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      let seen = 0;
      const next = () =>
        waitFor(`the Python client's next step (stderr: ${stderr.slice(-500)})`, () => (messages.length > seen ? messages[seen++] : undefined), 60_000);
      try {
        expect(
          (await cli(['user', 'add', 'py', '--url', pair.orchestrator.mcpUrl], { CROSSAUTH_SECRET: secret, CROSSAUTH_USER_PASSWORD: PASSWORD })).code,
        ).toBe(0);
        const asked = await next();
        const url = new URL(asked['authorize'] as string);
        expect(url.origin).toBe(pair.orchestrator.url);
        expect(url.searchParams.get('client_id')).toMatch(/^mcp-[0-9a-f]{32}$/);
        await approveInBrowser(url, 'py', async (params) => void child.stdin.write(`${params.toString()}\n`), undefined, 'Python mcp client');
        expect(await next()).toMatchObject({ step: 'first', result: { structuredContent: { owner: 'py', project: 'python-oauth' } } });
        expect(await next()).toMatchObject({ step: 'expired', rotated: true, result: { structuredContent: { sessions: expect.any(Array) } } });
        expect(await next()).toEqual({ step: 'waiting' });
        expect((await cli(['user', 'sign-out-everywhere', 'py', '--url', pair.orchestrator.mcpUrl], { CROSSAUTH_SECRET: secret })).code).toBe(0);
        child.stdin.write('again\n');
        // Its token is refused: the SDK sends the person back to the sign-in page.
        expect(new URL((await next())['authorize'] as string).origin).toBe(pair.orchestrator.url);
        child.stdin.write('stop\n');
        expect(await next()).toMatchObject({ step: 'after', error: expect.stringMatching(/did not sign in again/) });
      } finally {
        child.kill();
        await pair.stop();
      }
    });

    it('steps up: a 403 insufficient_scope sends the person back to approve the larger set, and the call then works', async () => {
      const username = 'sdk-viewer';
      expect(
        (
          await cli(['user', 'add', username, '--role', 'viewer', '--url', orchestrator.mcpUrl], {
            CROSSAUTH_SECRET: secret,
            CROSSAUTH_USER_PASSWORD: PASSWORD,
          })
        ).code,
      ).toBe(0);
      const { state, transport, connectOnce } = sdkProvider(false);
      const context = await browser.newContext();
      const first = transport();
      await expect(new ModernClient({ name: 'sdk-v2', version: '1.0.0' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
      await approveInBrowser(state.authorizationUrl as URL, username, (params) => first.finishAuth(params), context);
      expect(state.tokens?.scope).toBe('read');

      // A write tool with a read token: 403 insufficient_scope, and the SDK re-authorizes for the union.
      const client = new ModernClient({ name: 'sdk-v2', version: '1.0.0' });
      const stepping = transport();
      await client.connect(stepping);
      state.authorizationUrl = undefined;
      await expect(client.callTool({ name: 'start', arguments: { project: 'step-up' } })).rejects.toBeInstanceOf(UnauthorizedError);
      const asked = state.authorizationUrl as URL | undefined;
      expect(asked?.searchParams.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['read', 'write']));
      // The administrator grants the role; the person, still signed in, approves the larger set.
      expect((await cli(['user', 'set-role', username, '--role', 'developer', '--url', orchestrator.mcpUrl], { CROSSAUTH_SECRET: secret })).code).toBe(0);
      await approveInBrowser(asked as URL, username, (params) => stepping.finishAuth(params), context);
      await context.close();
      expect(state.tokens?.scope?.split(' ')).toEqual(expect.arrayContaining(['read', 'write']));
      const after = await connectOnce();
      expect(structured(await after.callTool({ name: 'start', arguments: { project: 'step-up' } }))).toMatchObject({ owner: username });
      await after.close();
    });
  });
});
