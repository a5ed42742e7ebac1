import { createHash, createHmac, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from './support/wait';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { cli } from './support/cli';
import { freePort, runToExit, spawnApp, type RunningApp } from './support/spawn-app';
import { connect, mint, newSecret, postMcp, structured, initializeBody } from './support/tokens';

/** Forwards JWKS fetches to the orchestrator, counting them: the test sees how often session-buddy fetches. */
async function countingProxy(target: () => string): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server: Server = createServer((req, res) => {
    count++;
    fetch(`${target()}${req.url ?? ''}`)
      .then(async (upstream) => {
        res.writeHead(upstream.status, {
          'content-type': upstream.headers.get('content-type') ?? 'application/json',
          'cache-control': upstream.headers.get('cache-control') ?? 'no-store',
        });
        res.end(Buffer.from(await upstream.arrayBuffer()));
      })
      .catch(() => {
        res.writeHead(502);
        res.end();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: () => count,
    close: () =>
      new Promise((r) => {
        // session-buddy's fetches keep connections alive; close them or close() waits on them.
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const headerOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as Record<string, unknown>;

/** A token crafted from first principles with any key and header. */
function craft(header: Record<string, unknown>, claims: Record<string, unknown>, signWith: (input: Buffer) => Buffer): string {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64(header)}.${b64({ sub: 'mallory', iss: 'orchestrator', aud: 'session-buddy', iat: now, exp: now + 300, jti: randomUUID(), type: 'access', scope: 'read write admin', ...claims })}`;
  return `${input}.${signWith(Buffer.from(input)).toString('base64url')}`;
}
const edSign = (key: KeyObject) => (input: Buffer) => sign(null, input, key);

describe("EdDSA mode: session-buddy verifies the orchestrator's tokens with its published keys and holds no secret", () => {
  const secret = newSecret();
  let sessionBuddy: RunningApp;
  let orchestrator: RunningApp;
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  let jwksUrl: string;
  const admin = (args: string[]) => cli([...args, '--url', orchestrator.mcpUrl], { CROSSAUTH_SECRET: secret });
  /** The status session-buddy answers a token with (an initialize, the first request any client sends). */
  const sbCall = (token: string) => postMcp(sessionBuddy.mcpUrl, initializeBody, { authorization: `Bearer ${token}` });
  const challenge = async (token: string) => {
    const res = await postMcp(sessionBuddy.mcpUrl, initializeBody, { authorization: `Bearer ${token}` });
    return { status: res.status, challenge: res.headers.get('www-authenticate') ?? '' };
  };
  const jwks = async () => (await (await fetch(jwksUrl)).json()) as { keys: Array<Record<string, unknown>> };

  beforeAll(async () => {
    const orchestratorPort = await freePort();
    proxy = await countingProxy(() => `http://127.0.0.1:${orchestratorPort}`);
    sessionBuddy = await spawnApp('session-buddy', {
      // No SESSION_BUDDY_SECRET: nothing here can mint.
      SESSION_BUDDY_JWKS_URL: `${proxy.url}/.well-known/jwks.json`,
      SESSION_BUDDY_JWKS_REFRESH_SECONDS: '2',
      SESSION_BUDDY_JWKS_MIN_REFETCH_SECONDS: '1',
      SESSION_BUDDY_DATA_DIR: mkdtempSync(join(tmpdir(), 'eddsa-sb-')),
      // The refusal cases and the kid flood would otherwise block this address (the orchestrator's too) for a minute.
      SESSION_BUDDY_AUTH_FAILURE_LIMIT: '0',
      SESSION_BUDDY_AUTHORIZATION_SERVER: `http://127.0.0.1:${orchestratorPort}`,
    });
    orchestrator = await spawnApp(
      'orchestrator',
      {
        ORCHESTRATOR_AUTH_SECRET: secret,
        ORCHESTRATOR_SIGNING_ALG: 'EdDSA',
        ORCHESTRATOR_SIGNING_KEY_PUBLISH_SECONDS: '4',
        ORCHESTRATOR_SESSION_BUDDY_URL: sessionBuddy.mcpUrl,
        ORCHESTRATOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'eddsa-orch-')),
      },
      orchestratorPort,
    );
    jwksUrl = `${orchestrator.url}/.well-known/jwks.json`;
    // session-buddy started before its issuer: ready only once it has the keys.
    await waitFor('session-buddy ready with the issuer keys', async () =>
      (await fetch(`${sessionBuddy.url}/health/ready`)).status === 200 ? true : undefined,
    );
  }, 60_000);
  afterAll(async () => {
    await orchestrator?.stop();
    await sessionBuddy?.stop();
    await proxy?.close();
  });

  it('publishes one Ed25519 public key and names it in the metadata', async () => {
    const res = await fetch(jwksUrl);
    expect(res.headers.get('content-type')).toMatch(/application\/jwk-set\+json/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=1');
    const { keys } = (await res.json()) as { keys: Array<Record<string, unknown>> };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', kid: expect.any(String) });
    expect(keys[0]).not.toHaveProperty('d');
    const metadata = (await (await fetch(`${orchestrator.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(metadata['jwks_uri']).toBe(jwksUrl);
  });

  it('session-buddy is ready with the keys, reports them, and holds no signing key', async () => {
    const ready = (await (await fetch(`${sessionBuddy.url}/health/ready`)).json()) as Record<string, unknown>;
    expect(ready).toMatchObject({ status: 'ready', jwks: 'ok' });
    const { keys } = await jwks();
    const token = (await orchestratorToken(['admin'])) as string;
    const client = await connect(sessionBuddy.mcpUrl, token);
    const diag = structured(await client.callTool({ name: 'jwt_diagnostics', arguments: {} }));
    await client.close();
    expect(diag).toMatchObject({ key_ids: [keys[0]?.['kid']], signing_key_id: null, algorithms: ['EdDSA', 'ES256'], public_key_issuers: [orchestrator.url] });
  });

  /** A token from the orchestrator's token endpoint for session-buddy, through a registered client. */
  let clientSecret: string | undefined;
  async function orchestratorToken(scopes: string[]): Promise<string> {
    if (!clientSecret) {
      const added = await admin(['client', 'add', 'eddsa-robot', '--scope', 'read write admin', '--resource', sessionBuddy.mcpUrl]);
      expect(added.code).toBe(0);
      clientSecret = /client_secret:\s+(\S+)/.exec(added.out)?.[1] ?? '';
    }
    const res = await fetch(`${orchestrator.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'eddsa-robot',
        client_secret: clientSecret,
        resource: sessionBuddy.mcpUrl,
        scope: scopes.join(' '),
      }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  it("the orchestrator calls session-buddy on a caller's behalf with EdDSA tokens; the audit line names subject and actor", async () => {
    const caller = await connect(orchestrator.mcpUrl, mint(secret, { sub: 'carol', aud: 'orchestrator', iss: orchestrator.url, scope: 'read write' }));
    expect(structured(await caller.callTool({ name: 'begin_project_session', arguments: { project: 'eddsa' } }))).toMatchObject({
      project: 'eddsa',
      owner: 'carol',
    });
    await caller.close();
    const decisions = sessionBuddy.logs().map((l) => l.message as { event?: string; subject?: string; actor?: string; outcome?: string });
    expect(decisions.some((d) => d.event === 'auth_decision' && d.outcome === 'allow' && d.subject === 'carol' && d.actor === 'orchestrator')).toBe(true);
  });

  it('a client-credentials token from the token endpoint is EdDSA-signed with the current key and works at session-buddy', async () => {
    const token = await orchestratorToken(['read']);
    const { keys } = await jwks();
    expect(headerOf(token)).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: keys[0]?.['kid'] });
    // RFC 9068 §2.2: the claims a third-party verifier reads.
    const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({
      sub: 'eddsa-robot',
      client_id: 'eddsa-robot',
      scope: 'read',
      aud: sessionBuddy.mcpUrl,
      iss: expect.any(String),
      jti: expect.any(String),
      iat: expect.any(Number),
      exp: expect.any(Number),
    });
    expect((await sbCall(token)).status).toBe(200);
  });

  it("the SDK's ClientCredentialsProvider, given only session-buddy's URL, discovers and calls in EdDSA mode", async () => {
    await orchestratorToken(['read']);
    const client = new Client({ name: 'eddsa-e2e', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(sessionBuddy.mcpUrl), {
        authProvider: new ClientCredentialsProvider({
          clientId: 'eddsa-robot',
          clientSecret: clientSecret as string,
          scope: 'read',
          expectedIssuer: orchestrator.url,
        }),
      }),
    );
    expect(structured(await client.callTool({ name: 'list_sessions', arguments: {} }))).toHaveProperty('sessions');
    await client.close();
  });

  describe('refusals', () => {
    const { privateKey: strangerKey, publicKey: strangerPublic } = generateKeyPairSync('ed25519');
    const cases: Array<[string, () => Promise<string>, RegExp]> = [
      ['an HS256 token made with the old shared secret', async () => mint(secret, { aud: 'session-buddy' }), /bad_signature/],
      [
        'HS256 keyed with the published public key (algorithm confusion)',
        async () => {
          const { keys } = await jwks();
          const bytes = Buffer.from(JSON.stringify(keys[0]));
          return craft({ alg: 'HS256', kid: keys[0]?.['kid'] }, {}, (input) => createHmac('sha256', bytes).update(input).digest());
        },
        /bad_signature/,
      ],
      [
        'a key of its own in the jwk header',
        async () => craft({ alg: 'EdDSA', kid: 'mine', jwk: strangerPublic.export({ format: 'jwk' }) }, {}, edSign(strangerKey)),
        /bad_signature/,
      ],
      [
        'a foreign jku',
        async () => {
          const { keys } = await jwks();
          return craft({ alg: 'EdDSA', kid: keys[0]?.['kid'], jku: 'http://127.0.0.1:9/evil.json' }, {}, edSign(strangerKey));
        },
        /bad_signature/,
      ],
      ['kid injection', async () => craft({ alg: 'EdDSA', kid: '../../../../etc/passwd' }, {}, edSign(strangerKey)), /malformed/],
      [
        'a forged signature under the real kid',
        async () => {
          const { keys } = await jwks();
          return craft({ alg: 'EdDSA', kid: keys[0]?.['kid'] }, {}, edSign(strangerKey));
        },
        /bad_signature/,
      ],
      [
        'alg none',
        async () =>
          `${b64({ alg: 'none' })}.${b64({ sub: 'mallory', iss: 'orchestrator', aud: 'session-buddy', exp: Math.floor(Date.now() / 1000) + 60, type: 'access' })}.`,
        /bad_signature|malformed/,
      ],
    ];
    it.each(cases)('refuses %s with 401 and the reason in the challenge', async (_name, make, reason) => {
      const { status, challenge: header } = await challenge(await make());
      expect(status).toBe(401);
      expect(header).toMatch(/^Bearer /);
      expect(header).toMatch(reason);
    });

    it('a flood of unknown kids is refused without unbounded fetching', async () => {
      await sleep(1100);
      const before = proxy.count();
      const tokens = Array.from({ length: 200 }, (_v, i) => craft({ alg: 'EdDSA', kid: `unknown-${i}-${randomUUID()}` }, {}, edSign(strangerKey)));
      const statuses = await Promise.all(tokens.map(async (t) => (await sbCall(t)).status));
      expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
      // One refetch for the flood (1 s floor), plus at most the scheduled refreshes meanwhile.
      expect(proxy.count() - before).toBeLessThanOrEqual(3);
    });
  });

  it('a key rotation while calls flow fails no call', async () => {
    const caller = await connect(orchestrator.mcpUrl, mint(secret, { sub: 'dave', aud: 'orchestrator', iss: orchestrator.url, scope: 'read write' }));
    await caller.callTool({ name: 'begin_project_session', arguments: { project: 'rotation' } });
    const before = (await jwks()).keys.map((k) => k['kid']);
    let calls = 0;
    const failures: string[] = [];
    let flowing = true;
    const flow = (async () => {
      while (flowing) {
        const result = await caller.callTool({ name: 'project_status', arguments: { project: 'rotation' } });
        calls++;
        if (result.isError) failures.push(JSON.stringify(result.content));
      }
    })();
    const rotated = await admin(['keys', 'rotate']);
    expect(rotated.code).toBe(0);
    const added = /added (\S+):/.exec(rotated.out)?.[1] as string;
    expect((await jwks()).keys.map((k) => k['kid'])).toEqual([...before, added]);
    // Calls go on through the publish lead (4 s) and past the switch.
    await sleep(6000);
    flowing = false;
    await flow;
    await caller.close();
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(20);
    const token = await orchestratorToken(['read']);
    expect(headerOf(token)['kid']).toBe(added);
    expect((await sbCall(token)).status).toBe(200);
    const listed = await admin(['keys', 'list']);
    expect(listed.out).toMatch(new RegExp(`${added}\\s+EdDSA\\s+current`));
    expect(listed.out).toMatch(/retiring/);
  }, 30_000);
});

describe("ES256 with the operator's own key file", () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const dir = mkdtempSync(join(tmpdir(), 'es256-key-'));
  const keyFile = join(dir, 'signing.pem');
  writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });

  it('signs with it and publishes its public half under its RFC 7638 thumbprint', async () => {
    const orchestrator = await spawnApp('orchestrator', {
      ORCHESTRATOR_AUTH_SECRET: newSecret(),
      ORCHESTRATOR_SIGNING_ALG: 'ES256',
      ORCHESTRATOR_SIGNING_KEY_FILE: keyFile,
      ORCHESTRATOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'es256-orch-')),
    });
    try {
      const { keys } = (await (await fetch(`${orchestrator.url}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, unknown>> };
      const jwk = publicKey.export({ format: 'jwk' });
      const thumbprint = createHash('sha256')
        .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
        .digest('base64url');
      expect(keys).toEqual([expect.objectContaining({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, alg: 'ES256', kid: thumbprint })]);
      expect(orchestrator.lines.join('\n')).not.toContain('PRIVATE KEY');
    } finally {
      await orchestrator.stop();
    }
  });

  it.each([
    [
      'an EdDSA setting with an ES256 key',
      { ORCHESTRATOR_SIGNING_ALG: 'EdDSA', ORCHESTRATOR_SIGNING_KEY_FILE: keyFile },
      /ORCHESTRATOR_SIGNING_KEY_FILE holds an ES256 key but ORCHESTRATOR_SIGNING_ALG is EdDSA/,
    ],
    [
      'a key file with HS256',
      { ORCHESTRATOR_SIGNING_KEY_FILE: keyFile },
      /ORCHESTRATOR_SIGNING_KEY_FILE needs ORCHESTRATOR_SIGNING_ALG=Ed25519, EdDSA or ES256/,
    ],
    [
      'a file that is not a key',
      { ORCHESTRATOR_SIGNING_ALG: 'ES256', ORCHESTRATOR_SIGNING_KEY_FILE: join(dir, 'nope.pem') },
      /ORCHESTRATOR_SIGNING_KEY_FILE: the file cannot be read/,
    ],
  ])('refuses to start with %s, naming the variable and not the key', async (_name, env, expected) => {
    const { code, output } = await runToExit('orchestrator', {
      ORCHESTRATOR_AUTH_SECRET: newSecret(),
      ORCHESTRATOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'es256-bad-')),
      ...env,
    });
    expect(code).not.toBe(0);
    expect(output).toMatch(expected);
    expect(output).not.toContain('PRIVATE KEY');
  });
});
