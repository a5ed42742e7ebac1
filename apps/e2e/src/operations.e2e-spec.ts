import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli as runCli } from './support/cli';
import { spawnApp, type RunningApp } from './support/spawn-app';
import { ISSUER, connect, initializeBody, keyId, mint, newSecret, postMcp, structured, text } from './support/tokens';
import { waitFor } from './support/wait';

const dir = mkdtempSync(join(tmpdir(), 'ops-e2e-'));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

/** Runs the built CLI like an operator would. */
/** The CLI from this suite's directory, stdout and stderr as one text. */
async function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const run = await runCli(args, env, dir);
  return { code: run.code, out: run.out + run.err };
}

/** A raw POST from a chosen loopback source address, to act as "another client". */
function postFrom(localAddress: string, url: string, token: string): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(initializeBody);
    const req = request(
      url,
      {
        method: 'POST',
        localAddress,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const reasonOf = async (res: Response) => ((await res.json()) as { reason?: string }).reason;

describe('operations: revocation, throttling, metrics, diagnostics', () => {
  const secret = newSecret();
  // A short clock skew keeps the wait for the subject-revocation boundary (skew + 1 s) short.
  const env = {
    SESSION_BUDDY_SECRET: secret,
    SESSION_BUDDY_DATA_DIR: join(dir, 'data'),
    SESSION_BUDDY_AUTH_FAILURE_LIMIT: '5',
    SESSION_BUDDY_CLOCK_SKEW_SECONDS: '1',
  };
  let app: RunningApp;
  beforeAll(async () => {
    app = await spawnApp('session-buddy', env);
  });
  afterAll(() => app.stop());

  it('refuses a revoked token at once, and still after a restart', async () => {
    const victim = mint(secret, { sub: 'victim', jti: 'jti-to-revoke' });
    expect((await postMcp(app.mcpUrl, initializeBody, { authorization: `Bearer ${victim}` })).status).toBe(200);
    const admin = await connect(app.mcpUrl, mint(secret, { sub: 'ops', scope: 'admin' }));
    expect(structured(await admin.callTool({ name: 'revoke_token', arguments: { token_to_revoke: victim } }))).toMatchObject({
      revoked: 'token',
      jti: 'jti-to-revoke',
    });
    await admin.close();
    const after = await postMcp(app.mcpUrl, initializeBody, { authorization: `Bearer ${victim}` });
    expect(after.status).toBe(401);
    expect(await reasonOf(after)).toBe('revoked');

    const port = app.port;
    await app.stop();
    app = await spawnApp('session-buddy', env, port);
    const restarted = await postMcp(app.mcpUrl, initializeBody, { authorization: `Bearer ${victim}` });
    expect(restarted.status).toBe(401);
    expect(await reasonOf(restarted)).toBe('revoked');
  });

  it('revokes every older token of a subject from the command line; a newly minted one works', async () => {
    const old = mint(secret, { sub: 'bob', iat: Math.floor(Date.now() / 1000) - 5 });
    expect((await postMcp(app.mcpUrl, initializeBody, { authorization: `Bearer ${old}` })).status).toBe(200);
    const result = await cli(['revoke-subject', 'bob', '--url', app.mcpUrl], { CROSSAUTH_SECRET: secret });
    expect(result.out).toContain('"revoked":"subject"');
    expect(result.code).toBe(0);
    const refused = await postMcp(app.mcpUrl, initializeBody, { authorization: `Bearer ${old}` });
    expect(await reasonOf(refused)).toBe('revoked');
    // Minted in the revocation's second: issued before it, so refused too.
    const sameSecond = mint(secret, { sub: 'bob', iat: Math.floor(Date.now() / 1000) });
    expect(await reasonOf(await postMcp(app.mcpUrl, initializeBody, { authorization: `Bearer ${sameSecond}` }))).toBe('revoked');
    const boundary = Date.parse((JSON.parse(result.out.slice(result.out.indexOf('{'))) as { tokens_accepted_from: string }).tokens_accepted_from);
    await waitFor('the revocation boundary', () => (Date.now() >= boundary ? true : undefined), 5_000);
    const fresh = mint(secret, { sub: 'bob' });
    expect((await postMcp(app.mcpUrl, initializeBody, { authorization: `Bearer ${fresh}` })).status).toBe(200);
  });

  it('refuses revocation from a non-admin token', async () => {
    const client = await connect(app.mcpUrl, mint(secret, { sub: 'mallory', scope: 'read write delete' }));
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('revoke_subject');
    await client.close();
  });

  it('answers a burst of bad tokens with 429 and Retry-After, while a valid caller elsewhere is unaffected', async () => {
    const bad = mint(newSecret());
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 8; i++) {
      const r = await postFrom('127.0.0.2', app.mcpUrl, bad);
      statuses.push(r.status);
      retryAfter ??= r.retryAfter;
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(6)).toEqual([429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect((await postFrom('127.0.0.3', app.mcpUrl, mint(secret, { sub: 'good' }))).status).toBe(200);
    expect(app.lines.join('\n')).toContain('"event":"auth_throttled"');
  });

  it('exposes Prometheus metrics whose counters move', async () => {
    const scrape = async () => (await fetch(`${app.url}/metrics`)).text();
    const count = (body: string, series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\d+)`, 'm').exec(body)?.[1] ?? 0);
    const before = await scrape();
    const client = await connect(app.mcpUrl, mint(secret, { sub: 'metrics' }));
    await client.callTool({ name: 'list_sessions', arguments: {} });
    await client.callTool({ name: 'list_sessions', arguments: {} });
    await client.close();
    await postMcp(app.mcpUrl, initializeBody, { authorization: `Bearer ${mint(secret, { exp: 1000 })}` });
    const after = await scrape();
    expect(
      count(after, 'crossauth_tool_calls_total{tool="list_sessions",outcome="ok"}') -
        count(before, 'crossauth_tool_calls_total{tool="list_sessions",outcome="ok"}'),
    ).toBe(2);
    expect(count(after, 'crossauth_auth_decisions_total{outcome="deny",reason="expired"}')).toBeGreaterThan(
      count(before, 'crossauth_auth_decisions_total{outcome="deny",reason="expired"}'),
    );
    expect(after).toMatch(/crossauth_tool_call_duration_seconds_bucket\{le="0.005",tool="list_sessions"\}/);
    expect(count(after, 'crossauth_verification_cache_hits')).toBeGreaterThan(0);
  });

  it('explains tokens and sessions to admins without revealing secrets or session ids', async () => {
    const admin = await connect(app.mcpUrl, mint(secret, { sub: 'ops', scope: 'admin' }));
    const jwt = structured(await admin.callTool({ name: 'jwt_diagnostics', arguments: {} }));
    expect(jwt).toMatchObject({ auth_mode: 'required', algorithms: ['HS256'], key_ids: [keyId(secret)], accepts_legacy_tokens: false, clock_skew_seconds: 1 });
    const verdict = structured(await admin.callTool({ name: 'validate_jwt_token', arguments: { token_to_check: mint(secret, { aud: 'elsewhere' }) } }));
    expect(verdict).toMatchObject({ valid: false, reason: 'wrong_audience' });
    const sessions = structured<{ session_count: number; sessions: Array<{ session: string }> }>(
      await admin.callTool({ name: 'session_diagnostics', arguments: {} }),
    );
    expect(sessions.session_count).toBeGreaterThan(0);
    for (const s of sessions.sessions) expect(s.session).toMatch(/^[A-Za-z0-9_-]{10}$/);
    const everything = JSON.stringify([jwt, verdict, sessions]);
    expect(everything).not.toContain(secret);
    await admin.close();
  });
});

describe('key rotation while calls keep flowing', () => {
  it('rotates both services with SIGHUP and refuses no request', async () => {
    const [a, b] = [newSecret(), newSecret()];
    const sbSecret = file('sb-secret', a);
    const sbPrevious = file('sb-previous', '');
    const orchSecret = file('orch-secret', a);
    const orchPrevious = file('orch-previous', '');
    const sb = await spawnApp('session-buddy', {
      SESSION_BUDDY_SECRET_FILE: sbSecret,
      SESSION_BUDDY_PREVIOUS_SECRETS_FILE: sbPrevious,
      SESSION_BUDDY_DATA_DIR: join(dir, 'rotation'),
      SESSION_BUDDY_REQUIRE_SIGNED_REQUESTS: 'orchestrator',
    });
    const orch = await spawnApp('orchestrator', {
      ORCHESTRATOR_AUTH_SECRET_FILE: orchSecret,
      ORCHESTRATOR_PREVIOUS_SECRETS_FILE: orchPrevious,
      ORCHESTRATOR_ISSUER: ISSUER,
      ORCHESTRATOR_SESSION_BUDDY_URL: sb.mcpUrl,
    });
    const client = await connect(orch.mcpUrl, mint(a, { sub: 'rotor', aud: 'orchestrator' }));
    await client.callTool({ name: 'begin_project_session', arguments: { project: 'rotation' } });
    let calls = 0;
    const failures: string[] = [];
    let running = true;
    const loop = (async () => {
      while (running) {
        const r = await client.callTool({ name: 'project_status', arguments: { project: 'rotation' } });
        calls++;
        if (r.isError) failures.push(text(r));
      }
    })();
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    try {
      await pause(300);
      // 1. The verifier learns the new key first and keeps accepting the old one.
      writeFileSync(sbSecret, b);
      writeFileSync(sbPrevious, a);
      sb.process.kill('SIGHUP');
      await pause(400);
      // 2. The minter switches to the new key (still accepting its callers' old-key tokens).
      writeFileSync(orchSecret, b);
      writeFileSync(orchPrevious, a);
      orch.process.kill('SIGHUP');
      await pause(400);
      // 3. The old key is dropped; the orchestrator's cached old-key tokens get a 401 and are re-minted.
      writeFileSync(sbPrevious, '');
      sb.process.kill('SIGHUP');
      await pause(400);
    } finally {
      running = false;
      await loop;
    }
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(20);
    const admin = await connect(sb.mcpUrl, mint(b, { sub: 'ops', scope: 'admin', iss: 'mahavishnu' }));
    expect(structured(await admin.callTool({ name: 'jwt_diagnostics', arguments: {} }))).toMatchObject({ key_ids: [keyId(b)] });
    await admin.close();
    // A token under the dropped key is now refused.
    expect((await postMcp(sb.mcpUrl, initializeBody, { authorization: `Bearer ${mint(a, { iss: 'mahavishnu' })}` })).status).toBe(401);
    await client.close();
    await orch.stop();
    await sb.stop();
  }, 60_000);
});
