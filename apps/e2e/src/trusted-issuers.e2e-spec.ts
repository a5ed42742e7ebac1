import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testIssuer } from '@crossauth/auth/testing';
import { freePort, runToExit, spawnApp, type RunningApp } from './support/spawn-app';
import { startOidcProvider, type OidcFixture } from './support/oidc-fixture';
import { connect, initializeBody, mint, newSecret, postMcp, structured } from './support/tokens';
import { waitFor } from './support/wait';

const MACHINE = {
  client_id: 'build-robot',
  client_secret: 'build-robot-secret-0123456789',
  grant_types: ['client_credentials'],
  redirect_uris: [],
  response_types: [],
};
const now = () => Math.floor(Date.now() / 1000);

describe('session-buddy honours tokens of outside issuers named in its trust file', () => {
  const secret = newSecret();
  const dir = mkdtempSync(join(tmpdir(), 'e2e-trust-'));
  const trustFile = join(dir, 'trust.yaml');
  let port: number;
  let mcpUrl: string;
  let idp: OidcFixture;
  let keycloak: Awaited<ReturnType<typeof testIssuer>>;
  let sessionBuddy: RunningApp;

  const trustYaml = (withKeycloak: boolean) =>
    [
      '# the organisation IdP: keys by OpenID discovery',
      'issuers:',
      `  - issuer: ${idp.issuer}`,
      '    discovery: oidc',
      `    audiences: [${mcpUrl}]`,
      '    scopes: [read, write]',
      ...(withKeycloak
        ? [
            `  - issuer: ${keycloak.issuer}`,
            `    jwks_uri: ${keycloak.jwksUri}`,
            '    audiences: [session-buddy]',
            '    algorithms: [PS256]',
            '    scope_claim: scp',
            '    scopes: [read]',
          ]
        : []),
      '',
    ].join('\n');
  const status = async (token: string) => {
    const res = await postMcp(mcpUrl, initializeBody, { authorization: `Bearer ${token}` });
    return { status: res.status, challenge: res.headers.get('www-authenticate') ?? '' };
  };
  const keycloakToken = (over: Record<string, unknown> = {}) =>
    keycloak.sign({ sub: 'alice', aud: 'session-buddy', iat: now(), exp: now() + 300, scp: ['read', 'write', 'admin'], ...over });
  const events = (event: string) => sessionBuddy.logs().filter((l) => (l.message as { event?: string }).event === event);

  beforeAll(async () => {
    port = await freePort();
    mcpUrl = `http://127.0.0.1:${port}/mcp`;
    [idp, keycloak] = await Promise.all([
      startOidcProvider({ audience: mcpUrl, scopes: ['read', 'write', 'admin'], clients: [MACHINE] }),
      testIssuer([{ alg: 'PS256' }]),
    ]);
    writeFileSync(trustFile, trustYaml(true));
    sessionBuddy = await spawnApp(
      'session-buddy',
      {
        SESSION_BUDDY_SECRET: secret,
        SESSION_BUDDY_DATA_DIR: join(dir, 'data'),
        SESSION_BUDDY_TRUST_FILE: trustFile,
        SESSION_BUDDY_TRUST_ALLOW_LOOPBACK_HTTP: 'true',
      },
      port,
    );
  });

  afterAll(async () => {
    await sessionBuddy?.stop();
    await Promise.all([idp?.stop(), keycloak?.close()]);
  });

  it("a machine's RS256 client-credentials token from a real OpenID provider opens session-buddy's tools, owned by issuer and subject", async () => {
    const token = await idp.clientCredentials(MACHINE.client_id, MACHINE.client_secret, 'read write');
    const client = await connect(mcpUrl, token);
    try {
      expect(structured(await client.callTool({ name: 'start', arguments: { project: 'outside' } }))).toMatchObject({
        project: 'outside',
        owner: `${idp.issuer}#build-robot`,
      });
      expect(structured(await client.callTool({ name: 'status', arguments: { project: 'outside' } }))).toMatchObject({ status: 'open' });
    } finally {
      await client.close();
    }
    const allowed = events('auth_decision').map((l) => l.message as Record<string, unknown>);
    expect(allowed).toContainEqual(expect.objectContaining({ outcome: 'allow', issuer: idp.issuer, subject: 'build-robot', client: expect.anything() }));
    expect(JSON.stringify(sessionBuddy.lines)).not.toContain(token.split('.')[2]);
  });

  it('alice at an outside issuer and alice of this deployment are two owners: neither sees the other’s sessions', async () => {
    const ours = await connect(mcpUrl, mint(secret, { sub: 'alice', scope: 'read write' }));
    const theirs = await connect(mcpUrl, keycloakToken({ scp: ['read'] }));
    try {
      await ours.callTool({ name: 'start', arguments: { project: 'twins' } });
      const listed = structured<{ sessions: Array<{ owner: string }> }>(await theirs.callTool({ name: 'list_sessions', arguments: {} }));
      expect(listed.sessions).toEqual([]);
      const status = await theirs.callTool({ name: 'status', arguments: { project: 'twins' } });
      expect(status.isError).toBe(true);
    } finally {
      await Promise.all([ours.close(), theirs.close()]);
    }
  });

  it("caps an outside issuer's scopes at its trust entry: admin and write in the token grant only read", async () => {
    const client = await connect(mcpUrl, keycloakToken());
    const admin = await connect(mcpUrl, mint(secret, { sub: 'root', scope: 'read admin' }));
    try {
      const write = await client.callTool({ name: 'start', arguments: { project: 'capped' } }).then(
        (r) => JSON.stringify(r),
        (error: unknown) => String(error),
      );
      expect(write).toMatch(/insufficient_scope|403/);
      expect(structured(await client.callTool({ name: 'list_sessions', arguments: {} }))).toMatchObject({ sessions: [] });
      // The refused write stored nothing, as everyone's sessions (read with this deployment's admin) show.
      expect(structured(await admin.callTool({ name: 'list_sessions', arguments: { project: 'capped' } }))).toMatchObject({ sessions: [] });
    } finally {
      await Promise.all([client.close(), admin.close()]);
    }
  });

  it.each([
    [
      'HS256 naming the outside issuer, signed with session-buddy’s own secret',
      () => mint(secret, { iss: idp.issuer, aud: mcpUrl }),
      /bad_signature|not allowed for this issuer/,
    ],
    ['an outside token for another audience', () => keycloakToken({ aud: 'https://elsewhere.example/mcp' }), /wrong_audience|audience/],
    ['an outside token with no audience', () => keycloakToken({ aud: undefined }), /wrong_audience|audience/],
    ['an issuer nobody trusts', () => mint(secret, { iss: 'https://stranger.example' }), /wrong_issuer|trusted/],
    [
      'a key of the IdP presented as the other issuer',
      () => keycloak.sign({ sub: 'alice', iss: idp.issuer, aud: mcpUrl, iat: now(), exp: now() + 300 }),
      /unknown_key|bad_signature/,
    ],
    ['an expired outside token', () => keycloakToken({ iat: now() - 900, exp: now() - 600 }), /expired/],
    [
      'an ID-JAG (typed for the token endpoint) presented as an access token',
      () => keycloak.sign({ sub: 'alice', aud: 'session-buddy', iat: now(), exp: now() + 300 }, { header: { typ: 'oauth-id-jag+jwt' } }),
      /malformed|typ/,
    ],
  ])('refuses %s with 401 and says why', async (_name, make, reason) => {
    const { status: code, challenge } = await status(make());
    expect(code).toBe(401);
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toMatch(reason);
  });

  it('an RS256 token from the IdP for another resource is refused', async () => {
    const token = await idp.clientCredentials(MACHINE.client_id, MACHINE.client_secret, 'read');
    const forged = `${token.split('.')[0]}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()), aud: 'other' })).toString('base64url')}.${token.split('.')[2]}`;
    expect((await status(forged)).status).toBe(401);
  });

  it('a bad trust file on SIGHUP is refused with its line and reason, and the running trust stays', async () => {
    writeFileSync(trustFile, `issuers:\n  - issuer: ${idp.issuer}\n    discovery: oidc\n    audiences: []\n    scopes: [read]\n`);
    const before = events('trust_reload_refused').length;
    sessionBuddy.process.kill('SIGHUP');
    const refused = await waitFor('the reload to be refused', () => events('trust_reload_refused')[before]);
    expect(JSON.stringify(refused.message)).toMatch(/trust\.yaml:4:\d+ \(issuers\.0\.audiences\)/);
    expect((await status(keycloakToken())).status).toBe(200);
    expect((await status(await idp.clientCredentials(MACHINE.client_id, MACHINE.client_secret, 'read'))).status).toBe(200);
  });

  it('a good trust file on SIGHUP applies to the next call: an issuer taken out is refused at once', async () => {
    const cached = keycloakToken({ jti: 'cached-before-reload' });
    expect((await status(cached)).status).toBe(200);
    writeFileSync(trustFile, trustYaml(false));
    const before = events('trust_loaded').length;
    sessionBuddy.process.kill('SIGHUP');
    await waitFor('the new trust to load', () => events('trust_loaded')[before]);
    expect(await status(cached)).toMatchObject({ status: 401, challenge: expect.stringMatching(/wrong_issuer|trusted/) });
    expect((await status(await idp.clientCredentials(MACHINE.client_id, MACHINE.client_secret, 'read'))).status).toBe(200);
  });

  it.each([
    ['a syntax error', 'issuers:\n  - issuer: [unclosed\n', /trust\.yaml:\d+:\d+: not valid YAML or JSON/],
    [
      'an unknown key',
      'issuers:\n  - issuer: https://idp.example\n    discovery: oidc\n    audiences: [x]\n    scopes: [read]\n    trust_everyone: true\n',
      /trust\.yaml:\d+:\d+ \(issuers\.0\)/,
    ],
    [
      'plain http keys without the development switch',
      'issuers:\n  - issuer: http://127.0.0.1:1/\n    discovery: oidc\n    audiences: [x]\n    scopes: [read]\n',
      /SESSION_BUDDY_TRUST_ALLOW_LOOPBACK_HTTP=true/,
    ],
  ])('refuses to start with a trust file with %s, naming the line and the rule', async (_name, text, reason) => {
    const file = join(mkdtempSync(join(tmpdir(), 'e2e-badtrust-')), 'trust.yaml');
    writeFileSync(file, text);
    const { code, output } = await runToExit('session-buddy', {
      SESSION_BUDDY_SECRET: secret,
      SESSION_BUDDY_PORT: String(await freePort()),
      SESSION_BUDDY_DATA_DIR: mkdtempSync(join(tmpdir(), 'e2e-badtrust-data-')),
      SESSION_BUDDY_TRUST_FILE: file,
    });
    expect(code).not.toBe(0);
    expect(output).toMatch(reason);
    expect(output).not.toContain(secret);
  });
});
