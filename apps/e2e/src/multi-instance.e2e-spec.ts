import { spawnSync } from 'node:child_process';
import { createHash, createHmac, randomInt, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { adminQuery } from '@crossauth/storage/testing';
import { cli } from './support/cli';
import { FormBrowser, formOf } from './support/form-browser';
import { postForm } from './support/redirect-listener';
import { WORKSPACE_ROOT, spawnApp, type RunningApp } from './support/spawn-app';
import { ISSUER, connect, initializeBody, mint, newSecret, signedHeaders, structured, text } from './support/tokens';
import { waitFor } from './support/wait';

/**
 * Two session-buddy instances on one PostgreSQL and one Redis, and the
 * orchestrator in front of one of them: what one instance learns (a nonce, a
 * revocation, a failure count, a write) the other knows. Needs
 * CROSSAUTH_TEST_DATABASE_URL and CROSSAUTH_TEST_REDIS_URL (npm test sets them
 * when the servers are installed); the outage cases also need the dedicated
 * test instances, which they stop and restart.
 */
const databaseUrl = process.env['CROSSAUTH_TEST_DATABASE_URL'];
const redisUrl = process.env['CROSSAUTH_TEST_REDIS_URL'];
if (!databaseUrl || !redisUrl) process.stderr.write('multi-instance e2e: skipped (CROSSAUTH_TEST_DATABASE_URL and CROSSAUTH_TEST_REDIS_URL are needed)\n');
const describeShared = databaseUrl && redisUrl ? describe : describe.skip;

const testServices = (command: 'stop' | 'start', which: 'postgres' | 'redis') => {
  const run = spawnSync(process.execPath, [join(WORKSPACE_ROOT, 'tools/scripts/test-services.mjs'), command, which], { stdio: 'ignore' });
  if (run.status !== 0) throw new Error(`test-services ${command} ${which} failed`);
};
// Only the instances npm test started are ours to stop.
const ownServices = databaseUrl?.includes(':55432/') && redisUrl?.endsWith(':56379');

type Forwarded = { status: number; body: string; retryAfter?: string; sessionId?: string };

/**
 * A raw request to one instance, as a load balancer would forward it (the Host
 * the client signed for). One that gets no answer within `timeoutMs` rejects.
 */
function forward(
  app: RunningApp,
  host: string,
  headers: Record<string, string>,
  body: string,
  localAddress = '127.0.0.1',
  method = 'POST',
  timeoutMs = 15_000,
): Promise<Forwarded> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: app.port,
        path: '/mcp',
        method,
        localAddress,
        headers: {
          ...headers,
          host,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: data,
            retryAfter: res.headers['retry-after'] as string | undefined,
            sessionId: res.headers['mcp-session-id'] as string | undefined,
          }),
        );
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

const reasonOf = (body: string): string | undefined => (JSON.parse(body) as { reason?: string }).reason;
const SKEW_SECONDS = 2;
const SIGNATURE_MAX_AGE_SECONDS = 20;
const toolCall = (id: number, name = 'health_check') => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });

const sql = (statement: string) => adminQuery(databaseUrl as string, statement);

describeShared('several session-buddy instances on PostgreSQL and Redis', () => {
  const secret = newSecret();
  const schema = `e2e_${randomUUID().replace(/-/g, '')}`;
  let a: RunningApp;
  let b: RunningApp;
  let orchestrator: RunningApp;
  const admin = sql;
  const instanceEnv = () => {
    const url = new URL(databaseUrl as string);
    url.searchParams.set('options', `-c search_path=${schema}`);
    return {
      SESSION_BUDDY_SECRET: secret,
      SESSION_BUDDY_DATABASE_URL: url.toString(),
      SESSION_BUDDY_REDIS_URL: redisUrl as string,
      SESSION_BUDDY_REQUIRE_SIGNED_REQUESTS: 'orchestrator',
      SESSION_BUDDY_AUTH_FAILURE_LIMIT: '5',
      SESSION_BUDDY_AUTH_FAILURE_BLOCK_SECONDS: '30',
      SESSION_BUDDY_DATA_DIR: join(WORKSPACE_ROOT, 'tmp', 'unused-with-postgres'),
      // Short enough that the cases on the revocation boundary and the replay guard wait seconds, not minutes.
      SESSION_BUDDY_CLOCK_SKEW_SECONDS: String(SKEW_SECONDS),
      SESSION_BUDDY_SIGNATURE_MAX_AGE_SECONDS: String(SIGNATURE_MAX_AGE_SECONDS),
    };
  };
  const both = () => [a, b] as const;
  const token = (sub: string, claims: Record<string, unknown> = {}) => mint(secret, { sub, iss: 'mahavishnu', scope: 'read write', ...claims });

  beforeAll(async () => {
    await admin(`CREATE SCHEMA ${schema}`);
    // Both start at once on an empty schema: the migration lock is part of what is tested.
    [a, b] = await Promise.all([spawnApp('session-buddy', instanceEnv()), spawnApp('session-buddy', instanceEnv())]);
    orchestrator = await spawnApp('orchestrator', { ORCHESTRATOR_AUTH_SECRET: secret, ORCHESTRATOR_ISSUER: ISSUER, ORCHESTRATOR_SESSION_BUDDY_URL: a.mcpUrl });
  }, 90_000);
  afterAll(async () => {
    await Promise.all([orchestrator?.stop(), a?.stop(), b?.stop()]);
    await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });

  it('reads through one instance what was written through the other, and through the orchestrator', async () => {
    const writer = await connect(a.mcpUrl, token('shared-writer'));
    const reader = await connect(b.mcpUrl, token('shared-writer'));
    const stored = structured<{ id: string }>(
      await writer.callTool({ name: 'store_reflection', arguments: { content: 'written on A, read on B', tags: ['multi'] } }),
    );
    const found = structured<{ results: Array<{ id: string }> }>(await reader.callTool({ name: 'quick_search', arguments: { query: 'written' } }));
    expect(found.results.map((r) => r.id)).toEqual([stored.id]);
    await reader.callTool({ name: 'start', arguments: { project: 'both' } });
    const again = await writer.callTool({ name: 'start', arguments: { project: 'both' } });
    expect(again.isError).toBe(true);
    expect(text(again)).toMatch(/already has an open session/);
    await Promise.all([writer.close(), reader.close()]);

    const caller = await connect(orchestrator.mcpUrl, mint(secret, { sub: 'via-orch', aud: 'orchestrator', scope: 'read write' }));
    expect((await caller.callTool({ name: 'begin_project_session', arguments: { project: 'orch' } })).isError).toBeFalsy();
    await caller.close();
    const onB = await connect(b.mcpUrl, token('via-orch'));
    expect(structured(await onB.callTool({ name: 'status', arguments: { project: 'orch' } }))).toMatchObject({ project: 'orch', owner: 'via-orch' });
    await onB.close();
  });

  it('continues on one instance a 2025-era session opened on the other, and refuses it to another principal on both', async () => {
    const bearer = token('roamer');
    const opened = await forward(a, 'sb', { authorization: `Bearer ${bearer}` }, JSON.stringify(initializeBody));
    expect(opened.status).toBe(200);
    const sessionId = await new Promise<string>((resolve, reject) => {
      // The session id comes back as a header; forward() keeps only the body, so ask once more with http.
      const req = request(
        {
          host: '127.0.0.1',
          port: a.port,
          path: '/mcp',
          method: 'POST',
          headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        },
        (res) => {
          res.resume();
          resolve(String(res.headers['mcp-session-id'] ?? ''));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(initializeBody));
    });
    expect(sessionId).not.toBe('');
    const call = (app: RunningApp, who: string, id: number) =>
      forward(
        app,
        'sb',
        { authorization: `Bearer ${who}`, 'mcp-session-id': sessionId },
        JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'health_check', arguments: {} } }),
      );
    const onB = await call(b, bearer, 2);
    expect(onB.status).toBe(200);
    expect((JSON.parse(onB.body) as { result: { structuredContent: { status: string } } }).result.structuredContent.status).toBe('ok');
    expect((await call(a, bearer, 3)).status).toBe(200);
    for (const app of both()) expect((await call(app, token('mallory'), 4)).status).toBe(403);
  });

  it('refuses on one instance a signed request the other accepted (a replay), and an envelope too', async () => {
    const bearer = mint(secret, { sub: 'signer' });
    const body = JSON.stringify(initializeBody);
    const host = new URL(a.mcpUrl).host;
    const headers = { authorization: `Bearer ${bearer}`, ...signedHeaders(secret, 'POST', a.mcpUrl, body) };
    expect((await forward(a, host, headers, body)).status).toBe(200);
    const replay = await forward(b, host, headers, body);
    expect(replay.status).toBe(401);
    expect(reasonOf(replay.body)).toBe('signature_replayed');

    const timestamp = new Date().toISOString().replace('Z', '+00:00');
    const signedText = `{"content": "once", "from_project": "mahavishnu", "timestamp": "${timestamp}", "to_project": "session-buddy"}`;
    const envelope = {
      message: JSON.parse(signedText) as unknown,
      signature: createHmac('sha256', secret).update(signedText).digest('hex'),
      algorithm: 'HMAC-SHA256',
    };
    const [onA, onB] = await Promise.all(both().map((app) => connect(app.mcpUrl, token('mahavishnu'))));
    expect(structured((await onA?.callTool({ name: 'receive_project_message', arguments: { envelope } })) as object)).toMatchObject({ accepted: true });
    const again = await onB?.callTool({ name: 'receive_project_message', arguments: { envelope } });
    expect(again?.isError).toBe(true);
    expect(text(again)).toMatch(/replayed/);
    await Promise.all([onA?.close(), onB?.close()]);
  });

  it('refuses on the other instance, as soon as the revocation is acknowledged, a token revoked on one, even though it had it cached', async () => {
    const victim = token('victim', { jti: `jti-${randomUUID()}` });
    const onB = await connect(b.mcpUrl, victim);
    // Twice: the second call is served from B's verification cache.
    await onB.callTool({ name: 'health_check', arguments: {} });
    await onB.callTool({ name: 'list_sessions', arguments: {} });
    const ops = await connect(a.mcpUrl, token('ops', { scope: 'admin' }));
    expect(structured(await ops.callTool({ name: 'revoke_token', arguments: { token_to_revoke: victim } }))).toMatchObject({ revoked: 'token' });
    await ops.close();
    // Redis delivered the revocation to B before A answered; the next request to B comes after that.
    const res = await forward(b, new URL(b.mcpUrl).host, { authorization: `Bearer ${victim}` }, JSON.stringify(initializeBody));
    expect(res.status).toBe(401);
    expect(reasonOf(res.body)).toBe('revoked');
    await onB.close().catch(() => undefined);
  });

  it('refuses on the other instance, once revoke_subject is acknowledged, tokens minted in its second or ahead within the skew; later ones work past the boundary', async () => {
    const subject = `same-second-${randomUUID().slice(0, 8)}`;
    const now = Math.floor(Date.now() / 1000);
    const sameSecond = token(subject, { iat: now });
    const ahead = token(subject, { iat: now + SKEW_SECONDS });
    const body = JSON.stringify(initializeBody);
    const host = new URL(b.mcpUrl).host;
    // Served (and so cached) on B first.
    for (const bearer of [sameSecond, ahead]) expect((await forward(b, host, { authorization: `Bearer ${bearer}` }, body)).status).toBe(200);
    const ops = await connect(a.mcpUrl, token('ops', { scope: 'admin' }));
    const answer = structured<{ issued_up_to: string; tokens_accepted_from: string }>(await ops.callTool({ name: 'revoke_subject', arguments: { subject } }));
    await ops.close();
    for (const bearer of [sameSecond, ahead]) {
      const refused = await forward(b, host, { authorization: `Bearer ${bearer}` }, body);
      expect(refused.status).toBe(401);
      expect(reasonOf(refused.body)).toBe('revoked');
    }
    const boundary = Date.parse(answer.tokens_accepted_from);
    expect(boundary - Date.parse(answer.issued_up_to)).toBeLessThanOrEqual((SKEW_SECONDS + 1) * 1000);
    await waitFor('the revocation boundary', () => (Date.now() >= boundary ? true : undefined), (SKEW_SECONDS + 3) * 1000);
    const later = token(subject);
    for (const app of both()) expect((await forward(app, host, { authorization: `Bearer ${later}` }, body)).status).toBe(200);
  });

  it('answers every one of 100 requests racing the session’s DELETE on the other instance, and none is served after it', async () => {
    const bearer = token('racer');
    const host = new URL(a.mcpUrl).host;
    const opened = await forward(a, host, { authorization: `Bearer ${bearer}` }, JSON.stringify(initializeBody));
    const sessionId = opened.sessionId ?? '';
    expect(sessionId).not.toBe('');
    const onSession = { authorization: `Bearer ${bearer}`, 'mcp-session-id': sessionId };
    const racing = Array.from({ length: 100 }, (_, i) =>
      forward(a, host, onSession, toolCall(100 + i, 'list_sessions')).then(
        (r) => r,
        (error: Error) => ({ status: 0, body: error.message }),
      ),
    );
    const deleted = await forward(b, host, onSession, '', '127.0.0.1', 'DELETE');
    expect(deleted.status).toBe(200);
    const after = await forward(a, host, onSession, toolCall(300));
    expect(after.status).toBe(404);
    const answers = await Promise.all(racing);
    const unanswered = answers.filter((r) => r.status === 0);
    expect(unanswered).toEqual([]);
    for (const r of answers) {
      expect([200, 404]).toContain(r.status);
      if (r.status === 404) expect(JSON.parse(r.body)).toMatchObject({ error: { code: -32001, message: 'Session not found' } });
    }
  });

  it('serves no request on one instance after the other has answered a DELETE of the session', async () => {
    const bearer = token('leaver');
    const host = new URL(a.mcpUrl).host;
    for (let round = 0; round < 20; round++) {
      const opened = await forward(a, host, { authorization: `Bearer ${bearer}` }, JSON.stringify(initializeBody));
      const onSession = { authorization: `Bearer ${bearer}`, 'mcp-session-id': opened.sessionId ?? '' };
      // B rebuilds it from the shared record; A holds it in memory.
      expect((await forward(b, host, onSession, toolCall(1))).status).toBe(200);
      expect((await forward(a, host, onSession, toolCall(2))).status).toBe(200);
      expect((await forward(b, host, onSession, '', '127.0.0.1', 'DELETE')).status).toBe(200);
      expect({ round, status: (await forward(a, host, onSession, toolCall(3))).status }).toEqual({ round, status: 404 });
    }
  });

  it('trips the failure throttle at the configured limit counted across both instances, not at twice it', async () => {
    // A loopback address of its own, so no other test's client is blocked.
    const client = `127.${randomInt(1, 250)}.${randomInt(1, 250)}.${randomInt(2, 250)}`;
    const bad = mint(newSecret(), { sub: 'guesser' });
    const body = JSON.stringify(initializeBody);
    const statuses: number[] = [];
    // Limit 5: failures 1-6 alternate A, B, A, B, A, B; the sixth is over the limit and starts the block.
    for (let i = 0; i < 6; i++) statuses.push((await forward(i % 2 ? b : a, 'sb', { authorization: `Bearer ${bad}` }, body, client)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401]);
    // The sixth failure is recorded after its answer: wait for the block to land (further tries are over the limit anyway).
    for (const app of both()) {
      const blocked = await waitFor(`the block on ${app.port}`, async () => {
        const res = await forward(app, 'sb', { authorization: `Bearer ${bad}` }, body, client);
        return res.status === 429 ? res : undefined;
      });
      expect(Number(blocked.retryAfter)).toBeGreaterThan(20);
    }
    // Another client is not affected.
    expect((await forward(a, 'sb', { authorization: `Bearer ${token('fine')}` }, body)).status).toBe(200);
  });

  it('loses no acknowledged write when an instance is SIGKILLed during a stream of writes', async () => {
    const owner = `stream-${randomUUID().slice(0, 8)}`;
    const victim = await spawnApp('session-buddy', instanceEnv());
    const writer = await connect(victim.mcpUrl, token(owner));
    const acknowledged: string[] = [];
    let failures = 0;
    const stream = (async () => {
      for (let i = 0; i < 400; i++) {
        try {
          const r = structured<{ id: string }>(await writer.callTool({ name: 'store_reflection', arguments: { content: `write ${i}`, tags: ['stream'] } }));
          acknowledged.push(r.id);
        } catch {
          failures++;
          break;
        }
      }
    })();
    while (acknowledged.length < 20) await sleep(5);
    await victim.kill();
    await stream;
    expect(failures).toBe(1);
    const reader = await connect(b.mcpUrl, token(owner));
    const stats = structured<{ total: number }>(await reader.callTool({ name: 'reflection_stats', arguments: {} }));
    // Every acknowledged write is there; at most the one in flight may be too.
    expect(stats.total === acknowledged.length || stats.total === acknowledged.length + 1).toBe(true);
    await reader.close();
  });

  (ownServices ? it : it.skip)(
    'refuses signed calls with 503 while Redis is down, and after it comes back empty refuses a replay of what it had accepted, on both instances, until one window has passed',
    async () => {
      const bearer = mint(secret, { sub: 'outage' });
      const body = JSON.stringify(initializeBody);
      const host = new URL(a.mcpUrl).host;
      const signed = () => ({ authorization: `Bearer ${bearer}`, ...signedHeaders(secret, 'POST', a.mcpUrl, body) });
      const accepted = signed();
      expect((await forward(a, host, accepted, body)).status).toBe(200);
      testServices('stop', 'redis');
      try {
        const during = await forward(a, host, signed(), body);
        expect(during.status).toBe(503);
        expect(reasonOf(during.body)).toBe('nonce_store_unavailable');
        expect(Number(during.retryAfter)).toBeGreaterThan(0);
        // Bearer-only callers go on.
        expect((await forward(b, 'sb', { authorization: `Bearer ${token('bearer-only')}` }, body)).status).toBe(200);
      } finally {
        // No persistence: Redis comes back knowing none of the nonces it held.
        testServices('start', 'redis');
      }
      const restartedAt = Date.now();
      // Each instance reconnects on its own schedule (every 2 s at most).
      for (const app of both())
        await waitFor(`${app.port} ready again`, async () => ((await fetch(`${app.url}/health/ready`)).status === 200 ? true : undefined));
      for (const app of both()) {
        const replay = await forward(app, host, accepted, body);
        expect(replay.status).toBe(503);
        expect(reasonOf(replay.body)).toBe('nonce_store_unavailable');
      }
      // Fresh signed requests are served again once the guard (one signature window plus the skew) has passed.
      const fresh = await waitFor(
        'a fresh signed request served after the guard',
        async () => {
          const headers = signed();
          return (await forward(a, host, headers, body)).status === 200 ? headers : undefined;
        },
        (SIGNATURE_MAX_AGE_SECONDS + SKEW_SECONDS + 15) * 1000,
        250,
      );
      expect(Date.now() - restartedAt).toBeGreaterThanOrEqual((SIGNATURE_MAX_AGE_SECONDS - 1) * 1000);
      const replayOnB = await forward(b, host, fresh, body);
      expect(reasonOf(replayOnB.body)).toBe('signature_replayed');
      // What was accepted before the restart has left its window by now.
      expect((await forward(b, host, accepted, body)).status).toBe(401);
    },
    90_000,
  );

  (ownServices ? it : it.skip)(
    'answers tools with a retryable error while PostgreSQL is down, and works again when it is back, without a restart',
    async () => {
      const client = await connect(a.mcpUrl, token('pg-outage'));
      testServices('stop', 'postgres');
      try {
        const during = await client.callTool({ name: 'store_reflection', arguments: { content: 'while down' } });
        expect(during.isError).toBe(true);
        expect(text(during)).toMatch(/storage is unavailable .*retry shortly/);
        const ready = await fetch(`${a.url}/health/ready`);
        expect(ready.status).toBe(503);
        expect(await ready.json()).toMatchObject({ database: 'down' });
      } finally {
        testServices('start', 'postgres');
      }
      await waitFor(
        'a write after PostgreSQL is back',
        async () => ((await client.callTool({ name: 'store_reflection', arguments: { content: 'after the restart' } })).isError ? undefined : true),
        20_000,
        100,
      );
      await waitFor('B ready again', async () => ((await fetch(`${b.url}/health/ready`)).status === 200 ? true : undefined), 20_000, 100);
      await client.close();
    },
    60_000,
  );
});

describeShared('several orchestrator instances on PostgreSQL and Redis: people sign in', () => {
  const secret = newSecret();
  const schema = `e2e_orch_${randomUUID().replace(/-/g, '')}`;
  const RESOURCE = 'http://127.0.0.1:8678/mcp';
  const REDIRECT = 'http://127.0.0.1/callback';
  const PASSWORD = 'correct horse battery staple';
  let a: RunningApp;
  let b: RunningApp;
  const verifier = randomUUID() + randomUUID();
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const instanceEnv = () => {
    const url = new URL(databaseUrl as string);
    url.searchParams.set('options', `-c search_path=${schema}`);
    return {
      ORCHESTRATOR_AUTH_SECRET: secret,
      ORCHESTRATOR_ISSUER: ISSUER,
      ORCHESTRATOR_DATABASE_URL: url.toString(),
      ORCHESTRATOR_REDIS_URL: redisUrl as string,
    };
  };
  const authorizeUrl = (at: RunningApp) =>
    `${at.url}/oauth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: 'desk',
      redirect_uri: 'http://127.0.0.1:40000/callback',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: RESOURCE,
      scope: 'read',
      state: 's',
    })}`;
  const redeem = (at: RunningApp, code: string) =>
    postForm(`${at.url}/oauth/token`, {
      grant_type: 'authorization_code',
      code,
      client_id: 'desk',
      redirect_uri: 'http://127.0.0.1:40000/callback',
      code_verifier: verifier,
    });
  const refresh = (at: RunningApp, refreshToken: string) =>
    postForm(`${at.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'desk' });
  /** Signs in at `at` and approves (or is let through on a remembered consent); resolves the code. */
  const codeFrom = async (browser: FormBrowser, at: RunningApp): Promise<string> => {
    let page = await browser.go(authorizeUrl(at));
    if (page.status === 200 && page.html.includes('Sign in'))
      page = await browser.go(`${at.url}/oauth/authorize`, { ...formOf(page.html), username: 'dana', password: PASSWORD });
    if (page.status === 200) page = await browser.go(`${at.url}/oauth/authorize`, { ...formOf(page.html), decision: 'approve' });
    expect(page.status).toBe(302);
    return new URL(page.location as string).searchParams.get('code') as string;
  };

  beforeAll(async () => {
    await sql(`CREATE SCHEMA ${schema}`);
    [a, b] = await Promise.all([spawnApp('orchestrator', instanceEnv()), spawnApp('orchestrator', instanceEnv())]);
    const admin = (args: string[], env: Record<string, string> = {}) =>
      cli([...args, '--url', a.mcpUrl], { CROSSAUTH_SECRET: secret, CROSSAUTH_ISSUER: ISSUER, ...env });
    expect((await admin(['user', 'add', 'dana'], { CROSSAUTH_USER_PASSWORD: PASSWORD })).code).toBe(0);
    expect((await admin(['client', 'add', 'desk', '--public', '--scope', 'read', '--resource', RESOURCE, '--redirect-uri', REDIRECT])).code).toBe(0);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });

  it('redeems a code issued by one instance on the other, exactly once, even when both race for it', async () => {
    const browser = new FormBrowser();
    const code = await codeFrom(browser, a);
    expect((await redeem(b, code)).status).toBe(200);
    expect(await (await redeem(a, code)).json()).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/already used/) });
    const raced = await codeFrom(browser, b);
    const answers = await Promise.all([redeem(a, raced), redeem(b, raced), redeem(a, raced), redeem(b, raced)]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 400, 400, 400]);
  });

  it('keeps one sign-in and one remembered consent for both instances, and one refresh family', async () => {
    const browser = new FormBrowser();
    const first = (await (await redeem(a, await codeFrom(browser, a))).json()) as { refresh_token: string };
    // Signed in and approved at A: B gives the code at once.
    const atB = await browser.go(authorizeUrl(b));
    expect(atB.status).toBe(302);
    const rotated = (await (await refresh(b, first.refresh_token)).json()) as { refresh_token: string };
    expect((await refresh(a, rotated.refresh_token)).status).toBe(200);
    // The first token, replaced twice over, comes back at A: the family is revoked everywhere.
    expect(await (await refresh(a, first.refresh_token)).json()).toMatchObject({
      error: 'invalid_grant',
      error_description: expect.stringMatching(/already replaced/),
    });
    expect(await (await refresh(b, rotated.refresh_token)).json()).toMatchObject({ error: 'invalid_grant' });
  });
});
