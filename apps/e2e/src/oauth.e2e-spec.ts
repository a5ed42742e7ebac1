import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { WORKSPACE_ROOT, freePort, spawnApp, type RunningApp } from './support/spawn-app';
import { newSecret, structured } from './support/tokens';

/** The built CLI, as an operator runs it. */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [join(WORKSPACE_ROOT, 'tools/cli/dist/main.js'), ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, cwd: tmpdir() });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out, err })));
}

const secretOf = (out: string) => /client_secret:\s+(\S+)/.exec(out)?.[1] ?? '';

describe('the orchestrator as OAuth authorization server: client credentials (SEP-1046)', () => {
  const secret = newSecret();
  let sessionBuddy: RunningApp;
  let orchestrator: RunningApp;
  let tokenUrl: string;
  let robotSecret: string;
  const admin = (args: string[]) => cli([...args, '--url', orchestrator.mcpUrl], { CROSSAUTH_SECRET: secret });
  const form = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
  const basic = (id: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(pass)}`).toString('base64')}` });

  beforeAll(async () => {
    const orchestratorPort = await freePort();
    sessionBuddy = await spawnApp('session-buddy', {
      SESSION_BUDDY_SECRET: secret,
      SESSION_BUDDY_DATA_DIR: mkdtempSync(join(tmpdir(), 'oauth-sb-')),
      SESSION_BUDDY_AUTHORIZATION_SERVER: `http://127.0.0.1:${orchestratorPort}`,
    });
    orchestrator = await spawnApp('orchestrator', { ORCHESTRATOR_AUTH_SECRET: secret, ORCHESTRATOR_SESSION_BUDDY_URL: sessionBuddy.mcpUrl, ORCHESTRATOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'oauth-orch-')) }, orchestratorPort);
    tokenUrl = `${orchestrator.url}/oauth/token`;
    const added = await admin(['client', 'add', 'robot', '--scope', 'read', '--resource', sessionBuddy.mcpUrl]);
    expect(added.code).toBe(0);
    robotSecret = secretOf(added.out);
    expect(robotSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
  afterAll(async () => {
    await orchestrator.stop();
    await sessionBuddy.stop();
  });

  it("lets the SDK's ClientCredentialsProvider, given only session-buddy's URL, discover, get a token and call a tool", async () => {
    const client = new Client({ name: 'robot-e2e', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(sessionBuddy.mcpUrl), { authProvider: new ClientCredentialsProvider({ clientId: 'robot', clientSecret: robotSecret }) }));
    expect(structured(await client.callTool({ name: 'list_sessions', arguments: {} }))).toMatchObject({ sessions: [] });
    // Scopes are the client's allowance: read, so a write tool is refused.
    const write = await client.callTool({ name: 'start', arguments: { project: 'nope' } }).catch((error: unknown) => error);
    expect(String((write as { content?: Array<{ text: string }> })?.content?.[0]?.text ?? write)).toMatch(/insufficient_scope|403/);
    await client.close();
    const decisions = sessionBuddy.logs().map((l) => l.message as { event?: string; subject?: string; issuer?: string; outcome?: string });
    expect(decisions.some((d) => d.event === 'auth_decision' && d.subject === 'robot' && d.issuer === 'orchestrator' && d.outcome === 'allow')).toBe(true);
  });

  it('publishes RFC 8414 metadata naming exactly what it implements', async () => {
    const res = await fetch(`${orchestrator.url}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      issuer: orchestrator.url,
      token_endpoint: tokenUrl,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      response_types_supported: [],
    });
    expect((await fetch(`${orchestrator.url}/oauth/authorize?response_type=code`)).status).toBe(400);
  });

  it('grants by client_secret_post too, for the registered resource, with the allowed scopes only', async () => {
    const res = await form({ grant_type: 'client_credentials', client_id: 'robot', client_secret: robotSecret, resource: sessionBuddy.mcpUrl, scope: 'read' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number; scope: string };
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'read' });
    const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: 'robot', aud: sessionBuddy.mcpUrl, iss: 'orchestrator', scope: 'read', type: 'access' });
  });

  it.each([
    ['a wrong secret (Basic)', () => form({ grant_type: 'client_credentials', resource: 'x' }, basic('robot', 'wrong')), 401, 'invalid_client'],
    ['an unknown client', () => form({ grant_type: 'client_credentials' }, basic('nobody', 'whatever')), 401, 'invalid_client'],
    ['no client authentication', () => form({ grant_type: 'client_credentials' }), 401, 'invalid_client'],
    ['a client assertion (private_key_jwt is not offered)', () => form({ grant_type: 'client_credentials', client_id: 'robot', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: 'a.b.c' }), 401, 'invalid_client'],
    ['an unregistered resource', () => form({ grant_type: 'client_credentials', resource: 'http://127.0.0.1:1/mcp' }, basic('robot', robotSecret)), 400, 'invalid_target'],
    ['two resources', () => fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic('robot', robotSecret) }, body: `grant_type=client_credentials&resource=${encodeURIComponent(sessionBuddy.mcpUrl)}&resource=${encodeURIComponent(orchestrator.mcpUrl)}` }), 400, 'invalid_target'],
    ['a scope outside its allowance', () => form({ grant_type: 'client_credentials', resource: sessionBuddy.mcpUrl, scope: 'admin' }, basic('robot', robotSecret)), 400, 'invalid_scope'],
    ['another grant type', () => form({ grant_type: 'password', username: 'a', password: 'b' }, basic('robot', robotSecret)), 400, 'unsupported_grant_type'],
    ['no grant type', () => form({}, basic('robot', robotSecret)), 400, 'invalid_request'],
    ['a repeated parameter', () => fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic('robot', robotSecret) }, body: 'grant_type=client_credentials&scope=read&scope=read' }), 400, 'invalid_request'],
    ['a JSON body', () => fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...basic('robot', robotSecret) }, body: '{"grant_type":"client_credentials"}' }), 400, 'invalid_request'],
    ['Basic and a posted secret at once', () => form({ grant_type: 'client_credentials', client_secret: robotSecret }, basic('robot', robotSecret)), 400, 'invalid_request'],
  ])('refuses %s with the status and error RFC 6749 §5.2 names, and issues no token', async (_name, send, status, error) => {
    const res = await send();
    expect(res.status).toBe(status);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body['error']).toBe(error);
    expect(body['access_token']).toBeUndefined();
    expect(res.headers.get('cache-control')).toBe('no-store');
    if (status === 401 && res.headers.get('www-authenticate')) expect(res.headers.get('www-authenticate')).toBe('Basic realm="crossauth"');
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
    expect((await admin(['client', 'remove', 'robot'])).out).toContain('removed robot');
    expect((await grant(fresh)).status).toBe(401);
    expect((await admin(['client', 'remove', 'robot'])).code).toBe(1);
  });

  it('refuses to register a client with an unknown scope or a resource that is not a URL, and never logs a secret', async () => {
    expect((await admin(['client', 'add', 'bad1', '--scope', 'superuser', '--resource', sessionBuddy.mcpUrl])).err).toMatch(/scopes: unknown superuser/);
    expect((await admin(['client', 'add', 'bad2', '--scope', 'read', '--resource', 'not a url'])).err).toMatch(/resources: not a url is not a URL/);
    expect(orchestrator.lines.join('\n')).not.toContain(robotSecret);
  });
});
