import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { cli } from './support/cli';
import { WORKSPACE_ROOT, spawnApp, startPair, type RunningApp } from './support/spawn-app';
import { connect, mint, newSecret, structured } from './support/tokens';

const secretOf = (out: string) => /client_secret:\s+(\S+)/.exec(out)?.[1] ?? '';

describe('the orchestrator as OAuth authorization server: client credentials (SEP-1046)', () => {
  const secret = newSecret();
  let sessionBuddy: RunningApp;
  let orchestrator: RunningApp;
  let tokenUrl: string;
  let robotSecret: string;
  const admin = (args: string[]) => cli([...args, '--url', orchestrator.mcpUrl], { CROSSAUTH_SECRET: secret });
  const form = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields).toString(),
    });
  const basic = (id: string, pass: string) => ({
    authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(pass)}`).toString('base64')}`,
  });

  beforeAll(async () => {
    ({ sessionBuddy, orchestrator } = await startPair(secret, 'oauth'));
    tokenUrl = `${orchestrator.url}/oauth/token`;
    const added = await admin(['client', 'add', 'robot', '--scope', 'read', '--resource', sessionBuddy.mcpUrl]);
    expect(added.code).toBe(0);
    robotSecret = secretOf(added.out);
    expect(robotSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
  afterAll(async () => {
    await orchestrator?.stop();
    await sessionBuddy?.stop();
  });

  it("lets the SDK's ClientCredentialsProvider, given only session-buddy's URL, discover, get a token and call a tool", async () => {
    const client = new Client({ name: 'robot-e2e', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(sessionBuddy.mcpUrl), {
        authProvider: new ClientCredentialsProvider({ clientId: 'robot', clientSecret: robotSecret }),
      }),
    );
    expect(structured(await client.callTool({ name: 'list_sessions', arguments: {} }))).toMatchObject({ sessions: [] });
    // Scopes are the client's allowance: read, so a write tool is refused.
    const write = await client.callTool({ name: 'start', arguments: { project: 'nope' } }).catch((error: unknown) => error);
    expect(String((write as { content?: Array<{ text: string }> })?.content?.[0]?.text ?? write)).toMatch(/insufficient_scope|403/);
    await client.close();
    const decisions = sessionBuddy.logs().map((l) => l.message as { event?: string; subject?: string; issuer?: string; outcome?: string });
    expect(decisions.some((d) => d.event === 'auth_decision' && d.subject === 'robot' && d.issuer === orchestrator.url && d.outcome === 'allow')).toBe(true);
  });

  it('publishes RFC 8414 metadata naming exactly what it implements', async () => {
    const res = await fetch(`${orchestrator.url}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      issuer: orchestrator.url,
      token_endpoint: tokenUrl,
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'],
      token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['ES256', 'EdDSA', 'RS256', 'PS256'],
      revocation_endpoint: `${orchestrator.url}/oauth/revoke`,
      introspection_endpoint: `${orchestrator.url}/oauth/introspect`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
    });
    // A request naming no client is answered on the server's own page, never redirected.
    const authorize = await fetch(`${orchestrator.url}/oauth/authorize?response_type=code`, { redirect: 'manual' });
    expect(authorize.status).toBe(400);
    expect(authorize.headers.get('location')).toBeNull();
  });

  it('answers liveness and readiness probes without authentication (container healthchecks)', async () => {
    expect(await (await fetch(`${orchestrator.url}/health/live`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${orchestrator.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', database: 'ok', redis: 'not_configured' });
  });

  it('grants by client_secret_post too, for the registered resource, with the allowed scopes only', async () => {
    const res = await form({ grant_type: 'client_credentials', client_id: 'robot', client_secret: robotSecret, resource: sessionBuddy.mcpUrl, scope: 'read' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number; scope: string };
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'read' });
    const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: 'robot', aud: sessionBuddy.mcpUrl, iss: orchestrator.url, client_id: 'robot', scope: 'read', type: 'access' });
  });

  it.each([
    ['a wrong secret (Basic)', () => form({ grant_type: 'client_credentials', resource: 'x' }, basic('robot', 'wrong')), 401, 'invalid_client'],
    ['an unknown client', () => form({ grant_type: 'client_credentials' }, basic('nobody', 'whatever')), 401, 'invalid_client'],
    ['no client authentication', () => form({ grant_type: 'client_credentials' }), 401, 'invalid_client'],
    [
      'a client assertion for a client that has a secret, not keys',
      () =>
        form({
          grant_type: 'client_credentials',
          client_id: 'robot',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: 'a.b.c',
        }),
      401,
      'invalid_client',
    ],
    [
      'an unregistered resource',
      () => form({ grant_type: 'client_credentials', resource: 'http://127.0.0.1:1/mcp' }, basic('robot', robotSecret)),
      400,
      'invalid_target',
    ],
    [
      'two resources',
      () =>
        fetch(tokenUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic('robot', robotSecret) },
          body: `grant_type=client_credentials&resource=${encodeURIComponent(sessionBuddy.mcpUrl)}&resource=${encodeURIComponent(orchestrator.mcpUrl)}`,
        }),
      400,
      'invalid_target',
    ],
    [
      'a scope outside its allowance',
      () => form({ grant_type: 'client_credentials', resource: sessionBuddy.mcpUrl, scope: 'admin' }, basic('robot', robotSecret)),
      400,
      'invalid_scope',
    ],
    ['another grant type', () => form({ grant_type: 'password', username: 'a', password: 'b' }, basic('robot', robotSecret)), 400, 'unsupported_grant_type'],
    ['no grant type', () => form({}, basic('robot', robotSecret)), 400, 'invalid_request'],
    [
      'a repeated parameter',
      () =>
        fetch(tokenUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic('robot', robotSecret) },
          body: 'grant_type=client_credentials&scope=read&scope=read',
        }),
      400,
      'invalid_request',
    ],
    [
      'a JSON body',
      () =>
        fetch(tokenUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...basic('robot', robotSecret) },
          body: '{"grant_type":"client_credentials"}',
        }),
      400,
      'invalid_request',
    ],
    [
      'Basic and a posted secret at once',
      () => form({ grant_type: 'client_credentials', client_secret: robotSecret }, basic('robot', robotSecret)),
      400,
      'invalid_request',
    ],
  ])('refuses %s with the status and error RFC 6749 §5.2 names, and issues no token', async (_name, send, status, error) => {
    const res = await send();
    expect(res.status).toBe(status);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body['error']).toBe(error);
    expect(body['access_token']).toBeUndefined();
    expect(res.headers.get('cache-control')).toBe('no-store');
    if (status === 401 && res.headers.get('www-authenticate')) expect(res.headers.get('www-authenticate')).toBe('Basic realm="crossauth"');
  });

  it('names both sides when a resource is not registered for the client (localhost is not 127.0.0.1)', async () => {
    const asked = sessionBuddy.mcpUrl.replace('127.0.0.1', 'localhost');
    const res = await form({ grant_type: 'client_credentials', resource: asked }, basic('robot', robotSecret));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'invalid_target',
      error_description: `resource '${asked}' is not registered for client 'robot' (registered: '${sessionBuddy.mcpUrl}')`,
    });
  });

  describe('crossauth call (a real MCP client for scripts)', () => {
    let pass: string;
    beforeAll(async () => {
      pass = secretOf((await admin(['client', 'add', 'scripted', '--scope', 'read', '--resource', sessionBuddy.mcpUrl])).out);
    });

    it('calls a tool by discovery and client credentials, the secret coming from the environment', async () => {
      const run = await cli(['call', sessionBuddy.mcpUrl, 'list_sessions', '{"limit": 5}', '--client-id', 'scripted', '--issuer', orchestrator.url], {
        CROSSAUTH_CLIENT_SECRET: pass,
      });
      expect(run.code).toBe(0);
      expect(JSON.parse(run.out)).toMatchObject({ sessions: [] });
    });

    it('calls with a minted, signed token when no client is given', async () => {
      // The issuer comes from session-buddy's own setting, as it would from a shared .env.
      const run = await cli(['call', sessionBuddy.mcpUrl, 'health_check'], { CROSSAUTH_SECRET: secret, SESSION_BUDDY_AUTHORIZATION_SERVER: orchestrator.url });
      expect(run.code).toBe(0);
      expect(JSON.parse(run.out)).toMatchObject({ status: 'ok' });
    });

    it.each([
      [
        'a wrong client secret',
        ['call', '<sb>', 'list_sessions', '--client-id', 'scripted', '--issuer', '<as>'],
        { CROSSAUTH_CLIENT_SECRET: 'wrong-secret' },
        /client authentication failed/,
      ],
      [
        'a client id with no secret in the environment',
        ['call', '<sb>', 'list_sessions', '--client-id', 'scripted', '--issuer', '<as>'],
        {},
        /needs CROSSAUTH_CLIENT_SECRET/,
      ],
      [
        'a client id without the issuer to trust',
        ['call', '<sb>', 'list_sessions', '--client-id', 'scripted'],
        { CROSSAUTH_CLIENT_SECRET: 'x' },
        /needs --issuer/,
      ],
      [
        'an authorization server other than the one named',
        ['call', '<sb>', 'list_sessions', '--client-id', 'scripted', '--issuer', 'http://127.0.0.1:1'],
        { CROSSAUTH_CLIENT_SECRET: 'x' },
        /issuer/i,
      ],
      ['arguments that are not a JSON object', ['call', '<sb>', 'list_sessions', '[1]'], {}, /must be a JSON object/],
      [
        'a tool its minted token does not reach',
        ['call', '<sb>', 'start', '{"project": "p"}', '--scope', 'read'],
        { CROSSAUTH_SECRET: 'x' },
        /start needs scope 'write'; the token held 'read' \(mint it with --scope write\)/,
      ],
      [
        'a tool its client registration does not reach',
        ['call', '<sb>', 'start', '{"project": "p"}', '--client-id', 'scripted', '--issuer', '<as>'],
        { CROSSAUTH_CLIENT_SECRET: '<pass>' },
        /start needs scope 'write'; client 'scripted' holds 'read', the scopes its registration allows/,
      ],
    ])('exits 1 on %s, saying why', async (_n, args, env: Record<string, string>, message) => {
      // 'x' and '<pass>' stand for the real service and client secrets, which the table cannot name before they exist.
      const realEnv = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, k === 'CROSSAUTH_SECRET' ? secret : v === '<pass>' ? pass : v]));
      if (realEnv['CROSSAUTH_SECRET']) realEnv['SESSION_BUDDY_AUTHORIZATION_SERVER'] = orchestrator.url;
      const run = await cli(
        args.map((a) => (a === '<sb>' ? sessionBuddy.mcpUrl : a === '<as>' ? orchestrator.url : a)),
        realEnv,
      );
      expect(run.code).toBe(1);
      expect(`${run.out}${run.err}`).toMatch(message);
    });
  });

  describe('revocation: RFC 7009 and client removal reach session-buddy at once', () => {
    let pass: string;
    beforeAll(async () => {
      pass = secretOf((await admin(['client', 'add', 'revocable', '--scope', 'read', '--resource', sessionBuddy.mcpUrl])).out);
      await admin(['client', 'add', 'bystander', '--scope', 'read', '--resource', sessionBuddy.mcpUrl]);
    });
    const grant = async (id: string, secretValue: string) => {
      const res = await form({ grant_type: 'client_credentials', resource: sessionBuddy.mcpUrl }, basic(id, secretValue));
      return ((await res.json()) as { access_token: string }).access_token;
    };
    const statusAt = async (token: string) => {
      const res = await fetch(sessionBuddy.mcpUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'r', version: '1' } },
        }),
      });
      return { status: res.status, reason: res.status === 200 ? undefined : ((await res.json()) as { reason?: string }).reason };
    };
    const refusedWithin = async (token: string, ms: number) => {
      const started = Date.now();
      while (Date.now() - started < ms) {
        const s = await statusAt(token);
        if (s.status === 401 && s.reason === 'revoked') return true;
        await new Promise((r) => setTimeout(r, 25));
      }
      return false;
    };
    const revoke = (token: string, headers: Record<string, string>) =>
      fetch(`${orchestrator.url}/oauth/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({ token }).toString(),
      });

    it("refuses a revocation by another client (answering 200, revealing nothing) and by a wrong secret, and revokes the owner's token at session-buddy within 1 s", async () => {
      const token = await grant('revocable', pass);
      expect((await statusAt(token)).status).toBe(200);
      const foreign = await revoke(token, basic('robot-does-not-exist', 'x'));
      expect(foreign.status).toBe(401);
      const bystanderPass = secretOf((await admin(['client', 'rotate-secret', 'bystander'])).out);
      expect((await revoke(token, basic('bystander', bystanderPass))).status).toBe(200);
      expect((await statusAt(token)).status).toBe(200);
      expect((await revoke('not.a.token', basic('revocable', pass))).status).toBe(200);
      expect((await revoke(token, basic('revocable', pass))).status).toBe(200);
      expect(await refusedWithin(token, 1000)).toBe(true);
    });

    it("stops a removed client's tokens at session-buddy within 1 s", async () => {
      const token = await grant('bystander', secretOf((await admin(['client', 'rotate-secret', 'bystander'])).out));
      expect((await statusAt(token)).status).toBe(200);
      const removed = await admin(['client', 'remove', 'bystander']);
      expect(removed.out).toContain('removed bystander');
      expect(await refusedWithin(token, 1000)).toBe(true);
    });
  });

  describe('introspection (RFC 7662) and the orchestrator refusing what it revoked', () => {
    const secrets: Record<string, string> = {};
    beforeAll(async () => {
      for (const [id, resource] of [
        ['sb-resource', sessionBuddy.mcpUrl],
        ['intro-target', sessionBuddy.mcpUrl],
        ['orch-resource', orchestrator.mcpUrl],
        ['orch-user', orchestrator.mcpUrl],
      ]) {
        secrets[id as string] = secretOf((await admin(['client', 'add', id as string, '--scope', 'read', '--resource', resource as string])).out);
      }
    });
    const tokenOf = async (id: string) =>
      ((await (await form({ grant_type: 'client_credentials' }, basic(id, secrets[id] as string))).json()) as { access_token: string }).access_token;
    const introspect = async (as: string, token: string, pass = secrets[as] as string) => {
      const res = await fetch(`${orchestrator.url}/oauth/introspect`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic(as, pass) },
        body: new URLSearchParams({ token }).toString(),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    it('tells a resource server what a live token of its audience holds, and nothing about others', async () => {
      const token = await tokenOf('intro-target');
      expect(await introspect('sb-resource', token)).toEqual({
        status: 200,
        body: expect.objectContaining({
          active: true,
          sub: 'intro-target',
          client_id: 'intro-target',
          scope: 'read',
          aud: [sessionBuddy.mcpUrl],
          iss: orchestrator.url,
          token_type: 'Bearer',
        }),
      });
      // A client whose resources do not include the token's audience learns nothing.
      expect(await introspect('orch-resource', token)).toEqual({ status: 200, body: { active: false } });
      expect(await introspect('sb-resource', 'not.a.token')).toEqual({ status: 200, body: { active: false } });
      expect((await introspect('sb-resource', token, 'wrong')).status).toBe(401);
      // Revoked by its owner: inactive at once.
      await fetch(`${orchestrator.url}/oauth/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic('intro-target', secrets['intro-target'] as string) },
        body: new URLSearchParams({ token }).toString(),
      });
      expect(await introspect('sb-resource', token)).toEqual({ status: 200, body: { active: false } });
    });

    it("refuses at the orchestrator, within 1 s, a removed client's token for the orchestrator itself", async () => {
      const token = await tokenOf('orch-user');
      const init = () =>
        fetch(orchestrator.mcpUrl, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'initialize',
            params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'o', version: '1' } },
          }),
        });
      expect((await init()).status).toBe(200);
      await admin(['client', 'remove', 'orch-user']);
      const started = Date.now();
      let refused: { status: number; reason?: string } = { status: 0 };
      while (Date.now() - started < 1000) {
        const res = await init();
        refused = { status: res.status, reason: res.status === 401 ? ((await res.json()) as { reason: string }).reason : undefined };
        if (refused.status === 401) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(refused).toEqual({ status: 401, reason: 'revoked' });
    });
  });

  describe('on-behalf-of exchange (RFC 8693)', () => {
    const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
    const ACCESS = 'urn:ietf:params:oauth:token-type:access_token';
    let relaySecret: string;
    const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    // A token a person holds for the relay service (its audience is the relay's client id).
    const aliceForRelay = (claims: Record<string, unknown> = {}) =>
      mint(secret, { sub: 'alice', aud: 'relay', iss: orchestrator.url, scope: 'read', ...claims });
    const exchange = (fields: Record<string, string>) =>
      form({ grant_type: EXCHANGE, subject_token_type: ACCESS, resource: sessionBuddy.mcpUrl, ...fields }, basic('relay', relaySecret));

    beforeAll(async () => {
      relaySecret = secretOf((await admin(['client', 'add', 'relay', '--scope', 'read write', '--resource', sessionBuddy.mcpUrl])).out);
    });

    it("turns the caller's token into one for session-buddy: same subject, the client as actor, scopes narrowed, never outliving it", async () => {
      const subjectToken = aliceForRelay({ exp: Math.floor(Date.now() / 1000) + 120 });
      const res = await exchange({ subject_token: subjectToken, scope: 'read write' });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = (await res.json()) as { access_token: string; issued_token_type: string; token_type: string; expires_in: number; scope: string };
      expect(body).toMatchObject({ issued_token_type: ACCESS, token_type: 'Bearer', scope: 'read' });
      expect(body.expires_in).toBeLessThanOrEqual(120);
      expect(body.access_token).not.toBe(subjectToken);
      expect(claimsOf(body.access_token)).toMatchObject({ sub: 'alice', aud: sessionBuddy.mcpUrl, act: { sub: 'relay' }, scope: 'read' });
      const client = await connect(sessionBuddy.mcpUrl, body.access_token);
      expect(structured(await client.callTool({ name: 'list_sessions', arguments: {} }))).toHaveProperty('sessions');
      await client.close();
      const decisions = sessionBuddy.logs().map((l) => l.message as { event?: string; subject?: string; actor?: string; outcome?: string });
      expect(decisions.some((d) => d.event === 'auth_decision' && d.outcome === 'allow' && d.subject === 'alice' && d.actor === 'relay')).toBe(true);
    });

    it('keeps an earlier actor nested under the new one', async () => {
      const res = await exchange({ subject_token: aliceForRelay({ act: { sub: 'assistant' } }) });
      expect(res.status).toBe(200);
      expect(claimsOf(((await res.json()) as { access_token: string }).access_token)['act']).toEqual({ sub: 'relay', act: { sub: 'assistant' } });
    });

    it.each([
      ['a subject token for another audience', () => exchange({ subject_token: mint(secret, { sub: 'alice', aud: 'session-buddy' }) }), 'invalid_request'],
      [
        'a subject token from another issuer',
        () => exchange({ subject_token: mint(secret, { sub: 'alice', aud: 'relay', iss: 'http://127.0.0.1:1' }) }),
        'invalid_request',
      ],
      ['an expired subject token', () => exchange({ subject_token: aliceForRelay({ exp: Math.floor(Date.now() / 1000) - 120 }) }), 'invalid_request'],
      ['a subject token signed with another secret', () => exchange({ subject_token: mint(newSecret(), { sub: 'alice', aud: 'relay' }) }), 'invalid_request'],
      [
        'no subject_token_type',
        () => form({ grant_type: EXCHANGE, subject_token: aliceForRelay(), resource: sessionBuddy.mcpUrl }, basic('relay', relaySecret)),
        'invalid_request',
      ],
      [
        'an actor_token (the client is the actor)',
        () => exchange({ subject_token: aliceForRelay(), actor_token: aliceForRelay(), actor_token_type: ACCESS }),
        'invalid_request',
      ],
      [
        'another requested token type',
        () => exchange({ subject_token: aliceForRelay(), requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }),
        'invalid_request',
      ],
      ['scopes the subject does not hold', () => exchange({ subject_token: aliceForRelay(), scope: 'write' }), 'invalid_scope'],
      ['an unregistered resource', () => exchange({ subject_token: aliceForRelay(), resource: 'http://127.0.0.1:1/mcp' }), 'invalid_target'],
      [
        'an act chain already five deep',
        () => exchange({ subject_token: aliceForRelay({ act: { sub: 'a', act: { sub: 'b', act: { sub: 'c', act: { sub: 'd', act: { sub: 'e' } } } } } }) }),
        'invalid_request',
      ],
      [
        'a wrong client secret',
        () => form({ grant_type: EXCHANGE, subject_token_type: ACCESS, subject_token: aliceForRelay() }, basic('relay', 'wrong')),
        'invalid_client',
      ],
    ])('refuses %s and issues nothing', async (_name, send, error) => {
      const res = await send();
      const body = (await res.json()) as Record<string, unknown>;
      expect(body['error']).toBe(error);
      expect(body['access_token']).toBeUndefined();
      expect(res.status).toBe(error === 'invalid_client' ? 401 : 400);
    });
  });

  describe('the orchestrator as a client: its session-buddy calls get tokens by discovery and token exchange', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const keyDir = mkdtempSync(join(tmpdir(), 'oauth-orch-client-'));
    const keyFile = join(keyDir, 'orchestrator-b.pem');
    const others: RunningApp[] = [];
    const start = (env: Record<string, string>) =>
      spawnApp('orchestrator', {
        ORCHESTRATOR_AUTH_SECRET: secret,
        ORCHESTRATOR_SESSION_BUDDY_URL: sessionBuddy.mcpUrl,
        ORCHESTRATOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'oauth-orch-b-')),
        ORCHESTRATOR_SESSION_BUDDY_CLIENT_ID: 'orchestrator-b',
        ORCHESTRATOR_SESSION_BUDDY_CLIENT_KEY_FILE: keyFile,
        ORCHESTRATOR_SESSION_BUDDY_AUTHORIZATION_SERVER: orchestrator.url,
        // One trust domain with the first orchestrator (same secret, same issuer): its subject tokens are ones that issuer exchanges.
        ORCHESTRATOR_ISSUER: orchestrator.url,
        ...env,
      }).then((app) => (others.push(app), app));
    const workflow = async (app: RunningApp, subject: string) => {
      const client = await connect(app.mcpUrl, mint(secret, { sub: subject, aud: 'orchestrator', iss: orchestrator.url, scope: 'read write' }));
      try {
        return await client.callTool({ name: 'begin_project_session', arguments: { project: `via-${subject}` } });
      } finally {
        await client.close();
      }
    };

    beforeAll(async () => {
      writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }));
      const jwksFile = join(keyDir, 'jwks.json');
      writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'orchestrator-b-1' }] }));
      const added = await admin(['client', 'add', 'orchestrator-b', '--scope', 'read write', '--resource', sessionBuddy.mcpUrl, '--jwks-file', jwksFile]);
      expect(added.code).toBe(0);
    });
    afterAll(async () => {
      await Promise.all(others.map((a) => a.stop()));
    });

    it('calls session-buddy with a token from the discovered token endpoint: the caller as subject, the client as actor', async () => {
      const b = await start({});
      // The whole result is matched so that a refusal shows its reason.
      expect(await workflow(b, 'frank')).toMatchObject({ structuredContent: { project: 'via-frank', owner: 'frank' } });
      const decisions = sessionBuddy.logs().map((l) => l.message as { event?: string; subject?: string; actor?: string; outcome?: string });
      expect(decisions.some((d) => d.event === 'auth_decision' && d.outcome === 'allow' && d.subject === 'frank' && d.actor === 'orchestrator-b')).toBe(true);
      const grants = orchestrator.logs().map((l) => l.message as { event?: string; reason?: string; subject?: string; actor?: string });
      expect(grants.some((g) => g.reason === 'token_exchange' && g.subject === 'frank' && g.actor === 'orchestrator-b')).toBe(true);
    });

    it('says so when the authorization server refuses it (a key that is not registered)', async () => {
      const stranger = join(keyDir, 'stranger.pem');
      writeFileSync(stranger, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }));
      const c = await start({ ORCHESTRATOR_SESSION_BUDDY_CLIENT_KEY_FILE: stranger });
      const result = await workflow(c, 'grace');
      expect(result.isError).toBe(true);
      expect(JSON.stringify(result.content)).toMatch(/refused the token exchange for session-buddy: invalid_client/);
    });

    it('sends no credentials when session-buddy names another authorization server than the configured one', async () => {
      const d = await start({ ORCHESTRATOR_SESSION_BUDDY_AUTHORIZATION_SERVER: 'http://127.0.0.1:1' });
      const before = orchestrator.logs().length;
      const result = await workflow(d, 'heidi');
      expect(result.isError).toBe(true);
      expect(JSON.stringify(result.content)).toMatch(/discovery of session-buddy's authorization server failed: it names/);
      expect(
        orchestrator
          .logs()
          .slice(before)
          .some((l) => JSON.stringify(l.message).includes('heidi')),
      ).toBe(false);
    });
  });

  describe('private_key_jwt (RFC 7523)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'signer-1', use: 'sig' };
    beforeAll(async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'oauth-keys-')), 'jwks.json');
      writeFileSync(file, JSON.stringify({ keys: [jwk] }));
      const added = await admin(['client', 'add', 'signer', '--scope', 'read write', '--resource', sessionBuddy.mcpUrl, '--jwks-file', file]);
      expect(added.out).toContain('auth_method:   private_key_jwt');
      expect(added.out).not.toContain('client_secret');
    });
    /** An assertion made from first principles (not with the SDK's jose), ES256 over the compact JWS. */
    const assertion = (claims: Record<string, unknown> = {}) => {
      const now = Math.floor(Date.now() / 1000);
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const input = `${b64({ alg: 'ES256', kid: 'signer-1' })}.${b64({ iss: 'signer', sub: 'signer', aud: tokenUrl, iat: now, exp: now + 60, jti: randomUUID(), ...claims })}`;
      return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    };
    const withAssertion = (value: string, extra: Record<string, string> = {}) =>
      form({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: value,
        resource: sessionBuddy.mcpUrl,
        ...extra,
      });

    it("lets the SDK's PrivateKeyJwtProvider discover, sign an assertion, get a token and call a tool", async () => {
      // In its own process: the provider loads jose, an ES module Jest cannot require.
      const child = spawn(
        process.execPath,
        [join(__dirname, 'support', 'private-key-jwt-client.mjs'), sessionBuddy.mcpUrl, 'signer', 'start', JSON.stringify({ project: 'signed-robot' })],
        {
          cwd: WORKSPACE_ROOT,
          env: { PATH: process.env['PATH'] ?? '', CLIENT_KEY: JSON.stringify(privateKey.export({ format: 'jwk' })) },
        },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      if (code !== 0) throw new Error(`client failed (${code}): ${err}`);
      expect(structured(JSON.parse(out))).toMatchObject({ owner: 'signer', status: 'open' });
    });

    it('crossauth call --client-key-file discovers and calls with a key, no secret; a key that is not registered is refused', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'oauth-cli-key-'));
      writeFileSync(join(dir, 'key.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
      const ok = await cli(
        ['call', sessionBuddy.mcpUrl, 'list_sessions', '{}', '--client-id', 'signer', '--issuer', orchestrator.url, '--client-key-file', join(dir, 'key.pem')],
        {},
      );
      expect(ok.err).toBe('');
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.out)).toHaveProperty('sessions');
      writeFileSync(join(dir, 'other.pem'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
      const refused = await cli(
        [
          'call',
          sessionBuddy.mcpUrl,
          'list_sessions',
          '{}',
          '--client-id',
          'signer',
          '--issuer',
          orchestrator.url,
          '--client-key-file',
          join(dir, 'other.pem'),
        ],
        {},
      );
      expect(refused.code).toBe(1);
      expect(refused.err).toMatch(/invalid_client|does not verify/);
    });

    it('grants once per assertion: the same jti again is refused as invalid_client', async () => {
      const once = assertion();
      expect((await withAssertion(once)).status).toBe(200);
      const replay = await withAssertion(once);
      expect(replay.status).toBe(401);
      expect(await replay.json()).toMatchObject({ error: 'invalid_client', error_description: expect.stringMatching(/already used/) });
    });

    it.each([
      ['an assertion for another audience', () => assertion({ aud: 'https://elsewhere.example/token' }), /aud must be/],
      ['an expired assertion', () => assertion({ exp: Math.floor(Date.now() / 1000) - 120 }), /expired/],
      ['an assertion living an hour', () => assertion({ exp: Math.floor(Date.now() / 1000) + 3600 }), /ahead/],
      ['an assertion without jti', () => assertion({ jti: undefined }), /jti is required/],
      ['an assertion naming another client', () => assertion({ iss: 'robot', sub: 'robot' }), /client authentication failed|iss and sub/],
      [
        'an HS256 assertion keyed with the public key',
        () => {
          const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
          const now = Math.floor(Date.now() / 1000);
          const input = `${b64({ alg: 'HS256', kid: 'signer-1' })}.${b64({ iss: 'signer', sub: 'signer', aud: tokenUrl, exp: now + 60, jti: randomUUID() })}`;
          return `${input}.${Buffer.from(JSON.stringify(jwk)).toString('base64url')}`;
        },
        /alg must be/,
      ],
      [
        'an assertion carrying its own key in the header',
        () => {
          const [, p, s] = assertion().split('.');
          return `${Buffer.from(JSON.stringify({ alg: 'ES256', jwk })).toString('base64url')}.${p}.${s}`;
        },
        /jwk header is not accepted/,
      ],
    ])('refuses %s as invalid_client, naming why', async (_n, make, why) => {
      const res = await withAssertion(make());
      expect(res.status).toBe(401);
      const body = (await res.json()) as { error: string; error_description: string };
      expect(body.error).toBe('invalid_client');
      expect(body.error_description).toMatch(why);
    });

    it('refuses a wrong client_assertion_type, and a secret rotation for a key-based client', async () => {
      const res = await form({ grant_type: 'client_credentials', client_assertion_type: 'urn:example:saml', client_assertion: assertion() });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
      expect((await admin(['client', 'rotate-secret', 'signer'])).err).toMatch(/private_key_jwt: it has keys, not a secret/);
    });
  });

  it('lists clients without secrets, rotates a secret (the old one stops at once) and removes a client', async () => {
    const listed = await admin(['client', 'list']);
    expect(listed.out).toMatch(/^robot {2}scopes=read {2}resources=/m);
    expect(listed.out).not.toContain(robotSecret);
    const rotated = await admin(['client', 'rotate-secret', 'robot']);
    const fresh = secretOf(rotated.out);
    expect(fresh).not.toBe(robotSecret);
    const grant = (pass: string) => form({ grant_type: 'client_credentials', resource: sessionBuddy.mcpUrl }, basic('robot', pass));
    expect((await grant(robotSecret)).status).toBe(401);
    expect((await grant(fresh)).status).toBe(200);
    const removed = await admin(['client', 'remove', 'robot']);
    expect(removed.out).toContain('removed robot; its tokens issued up to');
    expect(removed.out).toMatch(new RegExp(`${sessionBuddy.mcpUrl}: confirmed at `));
    expect((await grant(fresh)).status).toBe(401);
    // Removing again changes nothing and says where the revocation stands.
    const again = await admin(['client', 'remove', 'robot']);
    expect(again).toMatchObject({ code: 0 });
    expect(again.out).toContain('already removed: robot');
  });

  it('counts grants and refusals in its Prometheus metrics by reason', async () => {
    const metrics = await (await fetch(`${orchestrator.url}/metrics`)).text();
    expect(metrics).toMatch(/crossauth_auth_decisions_total\{outcome="allow",reason="client_credentials"\} [1-9]/);
    expect(metrics).toMatch(/crossauth_auth_decisions_total\{outcome="deny",reason="invalid_client"\} [1-9]/);
    expect(metrics).toMatch(/crossauth_auth_decisions_total\{outcome="deny",reason="invalid_target"\} [1-9]/);
  });

  it('refuses to register a client with an unknown scope or a resource that is not a URL, and never logs a secret', async () => {
    expect((await admin(['client', 'add', 'bad1', '--scope', 'superuser', '--resource', sessionBuddy.mcpUrl])).err).toMatch(/scopes: unknown superuser/);
    expect((await admin(['client', 'add', 'bad2', '--scope', 'read', '--resource', 'not a url'])).err).toMatch(/resources: not a url is not a URL/);
    expect(orchestrator.lines.join('\n')).not.toContain(robotSecret);
  });
});
