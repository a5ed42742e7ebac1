import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client as ModernClient, ClientCredentialsProvider, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { cli } from './support/cli';
import { WORKSPACE_ROOT, freePort, spawnApp, type RunningApp } from './support/spawn-app';
import { initializeBody, mint, newSecret, postMcp } from './support/tokens';
import { waitFor } from './support/wait';

/** FastMCP and the Python MCP client live in the venv `npm test` prepares (tools/python/requirements.txt). */
const python = process.env['CROSSAUTH_TEST_PYTHON'] ?? join(WORKSPACE_ROOT, 'tmp', 'python-mcp', 'bin', 'python');
const support = join(WORKSPACE_ROOT, 'apps', 'e2e', 'src', 'support');
const secretOf = (out: string) => /client_secret:\s+(\S+)/.exec(out)?.[1] ?? '';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

interface ThirdParty {
  readonly mcpUrl: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** A resource server process of another project; ready once it serves its protected resource metadata. */
async function thirdParty(label: string, command: string, args: string[], port: number, env: Record<string, string> = {}): Promise<ThirdParty> {
  const child: ChildProcessWithoutNullStreams = spawn(command, args, {
    env: { PATH: process.env['PATH'] ?? '', HOME: mkdtempSync(join(tmpdir(), 'third-party-home-')), ...env },
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(`${label} listening`, async () => {
    if (child.exitCode !== null) throw new Error(`${label} exited:\n${output}`);
    return (await fetch(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`).catch(() => undefined))?.ok ? true : undefined;
  });
  return {
    mcpUrl: `http://127.0.0.1:${port}/mcp`,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A FastMCP server (no crossauth code) trusting the orchestrator, by JWKS or by introspection. */
async function fastmcp(authorizationServer: string, mode: 'jwks' | 'introspection', env: Record<string, string> = {}, port?: number): Promise<ThirdParty> {
  port ??= await freePort();
  return thirdParty(`FastMCP (${mode})`, python, [join(support, 'fastmcp-resource-server.py'), authorizationServer, String(port), mode], port, env);
}

/** An MCP TypeScript SDK server (no crossauth code) verifying by JWKS with jose. */
async function sdkServer(authorizationServer: string): Promise<ThirdParty> {
  const port = await freePort();
  return thirdParty('MCP TS SDK server', process.execPath, [join(support, 'sdk-resource-server.mjs'), authorizationServer, String(port)], port);
}

describe('third-party MCP servers (FastMCP, the MCP TS SDK) trusting crossauth tokens with their own libraries', () => {
  const secret = newSecret();
  let orchestrator: RunningApp;
  let byJwks: ThirdParty;
  let byIntrospection: ThirdParty;
  let sdk: ThirdParty;
  let callerSecret: string;
  let issuer: string;
  const admin = (args: string[]) => cli([...args, '--url', orchestrator.mcpUrl], { CROSSAUTH_SECRET: secret });
  const token = async (client: string, pass: string, resource: string) => {
    const res = await fetch(`${orchestrator.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${client}:${pass}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource }).toString(),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const statusAt = async (url: string, bearer: string) => (await postMcp(url, initializeBody, { authorization: `Bearer ${bearer}` })).status;

  beforeAll(async () => {
    expect(existsSync(python)).toBe(true);
    orchestrator = await spawnApp('orchestrator', {
      ORCHESTRATOR_AUTH_SECRET: secret,
      ORCHESTRATOR_SIGNING_ALG: 'Ed25519',
      ORCHESTRATOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'third-party-orch-')),
    });
    issuer = ((await (await fetch(`${orchestrator.url}/.well-known/oauth-authorization-server`)).json()) as { issuer: string }).issuer;
    byJwks = await fastmcp(orchestrator.url, 'jwks');
    sdk = await sdkServer(orchestrator.url);
    // The introspecting server is itself a registered client, for its own resource.
    const port = await freePort();
    const introspector = secretOf(
      (await admin(['client', 'add', 'fastmcp-introspector', '--scope', 'read', '--resource', `http://127.0.0.1:${port}/mcp`])).out,
    );
    byIntrospection = await fastmcp(
      orchestrator.url,
      'introspection',
      { FASTMCP_CLIENT_ID: 'fastmcp-introspector', FASTMCP_CLIENT_SECRET: introspector },
      port,
    );
    callerSecret = secretOf(
      (
        await admin([
          'client',
          'add',
          'fm-caller',
          '--scope',
          'read write',
          '--resource',
          byJwks.mcpUrl,
          '--resource',
          byIntrospection.mcpUrl,
          '--resource',
          sdk.mcpUrl,
        ])
      ).out,
    );
  }, 90_000);
  afterAll(async () => {
    await byJwks?.stop();
    await byIntrospection?.stop();
    await sdk?.stop();
    await orchestrator?.stop();
  });

  it('lets the MCP TS SDK v2 client, given only the server URL, discover the orchestrator, get a token and call (JWKS verification)', async () => {
    const client = new ModernClient({ name: 'ts-v2', version: '1' });
    await client.connect(
      new ModernTransport(new URL(byJwks.mcpUrl), {
        authProvider: new ClientCredentialsProvider({ clientId: 'fm-caller', clientSecret: callerSecret, expectedIssuer: issuer, scope: 'read' }),
      }),
    );
    const result = (await client.callTool({ name: 'whoami', arguments: {} })) as { structuredContent?: Record<string, unknown> };
    expect(result.structuredContent).toEqual({ client_id: 'fm-caller', subject: 'fm-caller', scopes: ['read'] });
    await client.close();
  });

  it('lets the Python MCP client do the same, against the server that introspects', async () => {
    const { stdout } = await promisify(execFile)(python, [join(support, 'python-mcp-client.py'), byIntrospection.mcpUrl, 'legacy', 'whoami', '{}'], {
      env: { PATH: process.env['PATH'] ?? '', MCP_CLIENT_ID: 'fm-caller', MCP_CLIENT_SECRET: callerSecret, MCP_ISSUER: issuer },
      timeout: 60_000,
    });
    const out = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { result?: { structuredContent?: Record<string, unknown> }; error?: string };
    expect(out.error).toBeUndefined();
    expect(out.result?.structuredContent).toEqual({ client_id: 'fm-caller', subject: 'fm-caller', scopes: ['read', 'write'] });
  });

  it('lets the MCP TS SDK v2 client call an MCP TS SDK server that verifies with jose, also given only its URL', async () => {
    const client = new ModernClient({ name: 'ts-v2', version: '1' });
    await client.connect(
      new ModernTransport(new URL(sdk.mcpUrl), {
        authProvider: new ClientCredentialsProvider({ clientId: 'fm-caller', clientSecret: callerSecret, expectedIssuer: issuer }),
      }),
    );
    const result = (await client.callTool({ name: 'whoami', arguments: {} })) as { content: Array<{ text: string }> };
    expect(JSON.parse(result.content[0]?.text ?? '{}')).toEqual({ client_id: 'fm-caller', subject: 'fm-caller', scopes: ['read', 'write'] });
    await client.close();
  });

  it.each([
    ['a genuine token for another audience', async () => token('fm-caller', callerSecret, byJwks.mcpUrl)],
    [
      'an HS256 token minted with the shared secret',
      async () => mint(secret, { iss: issuer, sub: 'fm-caller', client_id: 'fm-caller', aud: sdk.mcpUrl, scope: 'read' }, { typ: 'at+jwt' }),
    ],
  ])('has the MCP TS SDK server refuse %s with 401 and a challenge naming its metadata', async (_what, make) => {
    const res = await postMcp(sdk.mcpUrl, initializeBody, { authorization: `Bearer ${await make()}` });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain(
      `resource_metadata="http://127.0.0.1:${new URL(sdk.mcpUrl).port}/.well-known/oauth-protected-resource/mcp"`,
    );
  });

  describe('refusals at the server verifying by JWKS', () => {
    let kid: string;
    beforeAll(async () => {
      kid = ((await (await fetch(`${orchestrator.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }).keys[0]?.kid ?? '';
      expect(kid).not.toBe('');
    });
    const now = () => Math.floor(Date.now() / 1000);
    const claims = () => ({
      iss: issuer,
      sub: 'fm-caller',
      client_id: 'fm-caller',
      aud: byJwks.mcpUrl,
      scope: 'read',
      iat: now(),
      exp: now() + 300,
      jti: randomUUID(),
    });

    it('accepts the genuine token (the baseline the refusals differ from)', async () => {
      expect(await statusAt(byJwks.mcpUrl, await token('fm-caller', callerSecret, byJwks.mcpUrl))).toBe(200);
    });

    it('refuses a genuine token for another audience', async () => {
      expect(await statusAt(byJwks.mcpUrl, await token('fm-caller', callerSecret, byIntrospection.mcpUrl))).toBe(401);
    });

    it('refuses an HS256 token minted with the shared secret, whatever its claims', async () => {
      expect(await statusAt(byJwks.mcpUrl, mint(secret, claims(), { typ: 'at+jwt' }))).toBe(401);
    });

    it("refuses a token signed by another key that names the orchestrator's kid", async () => {
      const forger = generateKeyPairSync('ed25519').privateKey;
      const input = `${b64({ alg: 'Ed25519', typ: 'at+jwt', kid })}.${b64(claims())}`;
      expect(await statusAt(byJwks.mcpUrl, `${input}.${sign(null, Buffer.from(input), forger).toString('base64url')}`)).toBe(401);
    });

    it('refuses an unsigned token (alg none)', async () => {
      expect(await statusAt(byJwks.mcpUrl, `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims())}.`)).toBe(401);
    });
  });

  describe('refusals at the server that introspects', () => {
    it('refuses a token for another audience: the orchestrator calls it inactive for this resource server', async () => {
      expect(await statusAt(byIntrospection.mcpUrl, await token('fm-caller', callerSecret, byIntrospection.mcpUrl))).toBe(200);
      expect(await statusAt(byIntrospection.mcpUrl, await token('fm-caller', callerSecret, byJwks.mcpUrl))).toBe(401);
    });

    it("refuses a removed client's token at once, where the JWKS server cannot know until it expires", async () => {
      const pass = secretOf(
        (await admin(['client', 'add', 'fm-leaver', '--scope', 'read', '--resource', byIntrospection.mcpUrl, '--resource', byJwks.mcpUrl])).out,
      );
      const introspected = await token('fm-leaver', pass, byIntrospection.mcpUrl);
      const jwksToken = await token('fm-leaver', pass, byJwks.mcpUrl);
      expect(await statusAt(byIntrospection.mcpUrl, introspected)).toBe(200);
      const removed = await admin(['client', 'remove', 'fm-leaver']);
      expect(removed.out).toContain(`${byJwks.mcpUrl}: not notified: verifies tokens by JWKS`);
      expect(await statusAt(byIntrospection.mcpUrl, introspected)).toBe(401);
      // What client remove said: a JWKS-only verifier keeps accepting until expiry.
      expect(await statusAt(byJwks.mcpUrl, jwksToken)).toBe(200);
    });
  });
});
