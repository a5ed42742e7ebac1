import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { WORKSPACE_ROOT, runToExit, spawnApp, type RunningApp } from './support/spawn-app';
import { ISSUER, connect, initializeBody, mint, newSecret, postMcp, rawPost, structured, text } from './support/tokens';
import { waitFor } from './support/wait';

const secret = newSecret();
const dataDir = () => mkdtempSync(join(tmpdir(), 'sb-e2e-'));

describe('session-buddy as its users run it', () => {
  let app: RunningApp;
  let dir: string;
  beforeAll(async () => {
    dir = dataDir();
    app = await spawnApp('session-buddy', { SESSION_BUDDY_SECRET: secret, SESSION_BUDDY_DATA_DIR: dir });
  });
  afterAll(() => app.stop());

  it('runs a full session lifecycle: start, checkpoints, end, then status and list', async () => {
    const client = await connect(app.mcpUrl, mint(secret, { sub: 'lifecycle' }));
    const started = structured<{ session_id: string; project: string }>(
      await client.callTool({ name: 'start', arguments: { working_directory: '/work/projects/alpha' } }),
    );
    expect(started.project).toBe('alpha');
    for (const n of [1, 2, 3]) {
      const cp = structured(
        await client.callTool({
          name: 'checkpoint',
          arguments: { project: 'alpha', notes: `step ${n}`, quality_score: 70 + n, files_touched: [`src/${n}.ts`] },
        }),
      );
      expect(cp['checkpoints']).toBe(n);
    }
    const status = structured<{ recent_checkpoints: Array<{ notes: string }> }>(
      await client.callTool({ name: 'status', arguments: { project: 'alpha', recent: 2 } }),
    );
    expect(status.recent_checkpoints.map((c) => c.notes)).toEqual(['step 3', 'step 2']);
    const ended = structured(await client.callTool({ name: 'end', arguments: { working_directory: '/work/projects/alpha', summary: 'done' } }));
    expect(ended).toMatchObject({ session_id: started.session_id, status: 'closed', summary: 'done', checkpoints: 3 });
    expect(typeof ended['duration_seconds']).toBe('number');
    const listed = structured<{ sessions: Array<{ session_id: string }> }>(await client.callTool({ name: 'list_sessions', arguments: { project: 'alpha' } }));
    expect(listed.sessions.map((s) => s.session_id)).toEqual([started.session_id]);
    await client.close();
  });

  it('refuses bad state with clear tool errors and changes nothing', async () => {
    const client = await connect(app.mcpUrl, mint(secret, { sub: 'state' }));
    expect(text(await client.callTool({ name: 'checkpoint', arguments: { project: 'beta', notes: 'x' } }))).toMatch(/no open session/);
    await client.callTool({ name: 'start', arguments: { project: 'beta' } });
    const again = await client.callTool({ name: 'start', arguments: { project: 'beta' } });
    expect(again.isError).toBe(true);
    expect(text(again)).toMatch(/already has an open session/);
    await client.callTool({ name: 'end', arguments: { project: 'beta' } });
    const twice = await client.callTool({ name: 'end', arguments: { project: 'beta' } });
    expect(twice.isError).toBe(true);
    const listed = structured<{ sessions: unknown[] }>(await client.callTool({ name: 'list_sessions', arguments: { project: 'beta' } }));
    expect(listed.sessions).toHaveLength(1);
    await client.close();
  });

  it.each([
    ['a project name with a slash', 'start', { project: 'a/b' }, /project/],
    ['a quality score over 100', 'checkpoint', { project: 'p', notes: 'n', quality_score: 101 }, /quality_score/],
    ['a non-UUIDv4 event id', 'track_session_start', { event_version: '1.0', event_id: '123', timestamp: '2026-01-01T00:00:00Z', project: 'p' }, /event_id/],
    [
      'a wrong event version',
      'track_session_start',
      { event_version: '2.0', event_id: '5b1e4bd1-5a3f-4a8e-9c55-3b8f1c2a9d10', timestamp: '2026-01-01T00:00:00Z', project: 'p' },
      /event_version/,
    ],
    [
      'a timestamp without offset',
      'track_session_start',
      { event_version: '1.0', event_id: '5b1e4bd1-5a3f-4a8e-9c55-3b8f1c2a9d10', timestamp: '2026-01-01 00:00', project: 'p' },
      /timestamp/,
    ],
    ['too many tags', 'store_reflection', { content: 'c', tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, /tags/],
    ['a search limit over 50', 'quick_search', { query: 'q', limit: 51 }, /limit/],
  ])('rejects %s, naming the field', async (_name, tool, args, field) => {
    const client = await connect(app.mcpUrl, mint(secret, { sub: 'validator', scope: 'read write delete' }));
    const result = await client.callTool({ name: tool, arguments: args });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(field);
    await client.close();
  });

  it('treats a repeated track_session_start event id as the same event', async () => {
    const client = await connect(app.mcpUrl, mint(secret, { sub: 'events' }));
    const event = { event_version: '1.0', event_id: '0f8fad5b-d9cb-469f-a165-70867728950e', timestamp: '2026-11-22T10:00:00+01:00', project: 'gamma' };
    const first = structured(await client.callTool({ name: 'track_session_start', arguments: event }));
    const second = structured(await client.callTool({ name: 'track_session_start', arguments: event }));
    expect(first['duplicate']).toBe(false);
    expect(second).toMatchObject({ session_id: first['session_id'], duplicate: true });
    expect(first['started_at']).toBe('2026-11-22T09:00:00.000Z');
    const end = { ...event, event_id: '7c9e6679-7425-40de-944b-e07fc1f90ae7', timestamp: '2026-11-22T11:30:00+01:00' };
    const e1 = structured(await client.callTool({ name: 'track_session_end', arguments: end }));
    const e2 = structured(await client.callTool({ name: 'track_session_end', arguments: end }));
    expect(e1).toMatchObject({ duration_seconds: 5400, duplicate: false });
    expect(e2).toMatchObject({ session_id: first['session_id'], duplicate: true });
    await client.close();
  });

  it('stores, searches, counts and deletes reflections; other subjects see none of it', async () => {
    const owner = await connect(app.mcpUrl, mint(secret, { sub: 'reflector', scope: 'read write delete' }));
    const stored = structured<{ id: string }>(
      await owner.callTool({
        name: 'store_reflection',
        arguments: { content: 'Pass a KeyObject, never a string secret, to jsonwebtoken', tags: ['perf', 'jwt'], project: 'crossauth' },
      }),
    );
    await owner.callTool({
      name: 'store_reflection',
      arguments: { content: 'SQLite WAL with synchronous FULL survives SIGKILL', tags: ['storage'], project: 'crossauth' },
    });
    const found = structured<{ results: Array<{ id: string }> }>(
      await owner.callTool({ name: 'quick_search', arguments: { query: 'jsonwebtoken string secret' } }),
    );
    expect(found.results[0]?.id).toBe(stored.id);
    expect(structured(await owner.callTool({ name: 'reflection_stats', arguments: {} }))).toEqual({
      total: 2,
      by_project: { crossauth: 2 },
      by_tag: { jwt: 1, perf: 1, storage: 1 },
    });

    const stranger = await connect(app.mcpUrl, mint(secret, { sub: 'stranger', scope: 'read write delete' }));
    expect(structured(await stranger.callTool({ name: 'quick_search', arguments: { query: 'jsonwebtoken' } }))).toMatchObject({ count: 0 });
    expect(structured(await stranger.callTool({ name: 'reflection_stats', arguments: {} }))).toMatchObject({ total: 0 });
    const steal = await stranger.callTool({ name: 'delete_reflection', arguments: { id: stored.id } });
    expect(steal.isError).toBe(true);
    expect(text(steal)).toMatch(/not found/);

    expect(structured(await owner.callTool({ name: 'delete_reflection', arguments: { id: stored.id } }))).toEqual({ deleted: stored.id });
    expect(structured(await owner.callTool({ name: 'quick_search', arguments: { query: 'jsonwebtoken' } }))).toMatchObject({ count: 0 });
    await Promise.all([owner.close(), stranger.close()]);
  });

  it('lets admin read everyone, and refuses writes from a read-only token with a 403 scope challenge', async () => {
    const admin = await connect(app.mcpUrl, mint(secret, { sub: 'root', scope: 'admin' }));
    const all = structured<{ sessions: Array<{ owner: string }> }>(await admin.callTool({ name: 'list_sessions', arguments: { limit: 100 } }));
    expect(new Set(all.sessions.map((s) => s.owner))).toEqual(new Set(['lifecycle', 'state', 'events']));
    await admin.close();

    const reader = mint(secret, { sub: 'reader', scope: 'read' });
    const init = await postMcp(app.mcpUrl, initializeBody, { authorization: `Bearer ${reader}` });
    const res = await postMcp(
      app.mcpUrl,
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'store_reflection', arguments: { content: 'x' } } },
      { authorization: `Bearer ${reader}`, 'mcp-session-id': init.headers.get('mcp-session-id') ?? '' },
    );
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", error_description="insufficient_scope: Token lacks a required scope", scope="write", resource_metadata="${app.url}/.well-known/oauth-protected-resource/mcp"`,
    );
    const client = await connect(app.mcpUrl, reader);
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual([
      'health_check',
      'list_project_messages',
      'list_sessions',
      'quick_search',
      'reflection_stats',
      'status',
    ]);
    await client.close();
  });

  it.each([
    ['no token', undefined, undefined],
    ['an expired token', () => mint(secret, { exp: Math.floor(Date.now() / 1000) - 120 }), 'expired'],
    ['a token for the orchestrator', () => mint(secret, { aud: 'orchestrator' }), 'wrong_audience'],
    ['a typ that is not a JWT media type', () => mint(secret, {}, { typ: 'JOSE' }), 'malformed'],
    ['a token from an unknown issuer', () => mint(secret, { iss: 'intruder' }), 'wrong_issuer'],
    ['a token signed with another secret', () => mint(newSecret()), 'unknown_key'],
    ['an alg:none token', () => mint(secret, {}, { alg: 'none' }).replace(/\.[^.]+$/, '.'), 'bad_signature'],
  ])('answers %s with 401 and the RFC 6750/9728 challenge', async (_n, token, reason) => {
    const res = await postMcp(app.mcpUrl, initializeBody, token ? { authorization: `Bearer ${token()}` } : {});
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain(`resource_metadata="${app.url}/.well-known/oauth-protected-resource/mcp"`);
    if (reason) expect(challenge).toContain(`error="invalid_token", error_description="${reason}: `);
    else expect(challenge).not.toContain('error=');
  });

  it('refuses a legacy token (no aud) saying so and naming the switch, not "another audience"', async () => {
    const res = await postMcp(app.mcpUrl, initializeBody, { authorization: `Bearer ${mint(secret, { aud: undefined })}` });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain(
      'error_description="legacy_token: Token has no audience claim (a legacy token), and this server does not accept legacy tokens; set SESSION_BUDDY_ACCEPT_LEGACY_TOKENS=true to accept them"',
    );
    expect(((await res.json()) as { reason: string }).reason).toBe('legacy_token');
  });

  it('refuses a request with two Authorization headers, even when the first one is valid', async () => {
    const good = mint(secret, { sub: 'twice' });
    const raw = await rawPost(app.port, JSON.stringify(initializeBody), [
      `Authorization: Bearer ${good}`,
      `Authorization: Bearer ${mint(secret, { sub: 'other' })}`,
    ]);
    expect(raw.status).toBe(401);
    expect(raw.headers['www-authenticate']).toContain('error_description="malformed: ');
    const single = await rawPost(app.port, JSON.stringify(initializeBody), [`Authorization: Bearer ${good}`]);
    expect(single.status).toBe(200);
  });

  it.each(['jwt', 'AT+JWT'])('accepts typ %p (media types are case-insensitive)', async (typ) => {
    const res = await postMcp(app.mcpUrl, initializeBody, { authorization: `Bearer ${mint(secret, {}, { typ })}` });
    expect(res.status).toBe(200);
  });

  it('accepts the canonical MCP URL as audience too', async () => {
    const client = await connect(app.mcpUrl, mint(secret, { aud: app.mcpUrl }));
    expect(structured(await client.callTool({ name: 'health_check', arguments: {} }))).toMatchObject({ status: 'ok' });
    await client.close();
  });

  it('never writes a token into its logs', async () => {
    const token = mint(secret, { sub: 'log-check' });
    const client = await connect(app.mcpUrl, token);
    await client.callTool({ name: 'list_sessions', arguments: {} });
    await client.close();
    const all = app.lines.join('\n');
    expect(all).toContain('log-check');
    expect(all).not.toContain(token.split('.')[2]);
    expect(all).not.toContain(secret);
  });
});

describe('session-buddy durability', () => {
  it('keeps every acknowledged write across a SIGKILL', async () => {
    const dir = dataDir();
    const env = { SESSION_BUDDY_SECRET: secret, SESSION_BUDDY_DATA_DIR: dir };
    const first = await spawnApp('session-buddy', env);
    const client = await connect(first.mcpUrl, mint(secret, { sub: 'durable' }));
    await client.callTool({ name: 'start', arguments: { project: 'crash' } });
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const r = structured<{ id: string }>(
        await client.callTool({ name: 'store_reflection', arguments: { content: `acknowledged lesson number ${i}`, tags: ['crash'] } }),
      );
      ids.push(r.id);
      await client.callTool({ name: 'checkpoint', arguments: { project: 'crash', notes: `cp ${i}` } });
    }
    await first.kill();

    const second = await spawnApp('session-buddy', env, first.port);
    const after = await connect(second.mcpUrl, mint(secret, { sub: 'durable' }));
    expect(structured(await after.callTool({ name: 'reflection_stats', arguments: {} }))).toMatchObject({ total: 25, by_tag: { crash: 25 } });
    expect(structured(await after.callTool({ name: 'status', arguments: { project: 'crash' } }))).toMatchObject({ checkpoints: 25, status: 'open' });
    await after.close();
    await second.stop();
  });
});

describe("session-buddy during the issuer's transition window", () => {
  it("accepts tokens under the orchestrator's legacy name until the window ends, then refuses them saying so", async () => {
    const endsAt = new Date(Math.ceil((Date.now() + 4000) / 1000) * 1000);
    const app = await spawnApp('session-buddy', {
      SESSION_BUDDY_SECRET: secret,
      SESSION_BUDDY_DATA_DIR: dataDir(),
      SESSION_BUDDY_LEGACY_ISSUERS_UNTIL: endsAt.toISOString(),
    });
    try {
      const legacy = mint(secret, { sub: 'old-token', iss: 'orchestrator' });
      const client = await connect(app.mcpUrl, legacy);
      expect(structured(await client.callTool({ name: 'list_sessions', arguments: {} }))).toHaveProperty('sessions');
      await client.close();
      await waitFor('the window to end', async () => Date.now() >= endsAt.getTime() + 50 || undefined, 10_000);
      const res = await postMcp(app.mcpUrl, initializeBody, { authorization: `Bearer ${legacy}` });
      expect(res.status).toBe(401);
      const challenge = res.headers.get('www-authenticate') ?? '';
      expect(challenge).toContain(
        `error_description="wrong_issuer: Token issuer is not trusted by this server; iss 'orchestrator' was accepted until ${endsAt.toISOString()}; tokens must now say iss '${ISSUER}'"`,
      );
      // The issuer URL goes on working.
      const current = await connect(app.mcpUrl, mint(secret, { sub: 'new-token' }));
      expect(structured(await current.callTool({ name: 'list_sessions', arguments: {} }))).toHaveProperty('sessions');
      await current.close();
    } finally {
      await app.stop();
    }
  }, 60_000);

  it('names the trusted issuers when a token comes from another one (here: localhost is not 127.0.0.1)', async () => {
    const app = await spawnApp('session-buddy', { SESSION_BUDDY_SECRET: secret, SESSION_BUDDY_DATA_DIR: dataDir() });
    try {
      const res = await postMcp(app.mcpUrl, initializeBody, { authorization: `Bearer ${mint(secret, { iss: 'http://localhost:8679' })}` });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({
        reason: 'wrong_issuer',
        error_description: `Token issuer is not trusted by this server; the token's iss is 'http://localhost:8679'; this server trusts '${ISSUER}', 'mahavishnu'`,
      });
    } finally {
      await app.stop();
    }
  });
});

describe('session-buddy start-up checks', () => {
  it.each([
    ['a short secret', { SESSION_BUDDY_SECRET: 'short-but-real-Zx81' }, /SESSION_BUDDY_SECRET is not an acceptable secret: it must be at least 32 characters/],
    [
      'a placeholder secret',
      { SESSION_BUDDY_SECRET: 'changeme-changeme-changeme-changeme-0' },
      /SESSION_BUDDY_SECRET is not an acceptable secret: .*placeholder/,
    ],
    [
      'auth disabled while a secret is set',
      { SESSION_BUDDY_SECRET: newSecret(), SESSION_BUDDY_AUTH_MODE: 'disabled' },
      /only allowed when SESSION_BUDDY_SECRET is not set/,
    ],
    ['no secret in required mode', { SESSION_BUDDY_AUTH_MODE: 'required' }, /SESSION_BUDDY_SECRET is required/],
    ['a port out of range', { SESSION_BUDDY_SECRET: newSecret(), SESSION_BUDDY_PORT: '70000' }, /SESSION_BUDDY_PORT/],
    [
      'an authorization server with a trailing slash',
      { SESSION_BUDDY_SECRET: newSecret(), SESSION_BUDDY_AUTHORIZATION_SERVER: 'http://127.0.0.1:8679/' },
      /SESSION_BUDDY_AUTHORIZATION_SERVER: must be an issuer URL/,
    ],
    [
      'a transition end that is not an instant',
      { SESSION_BUDDY_SECRET: newSecret(), SESSION_BUDDY_LEGACY_ISSUERS_UNTIL: 'summer 2027' },
      /SESSION_BUDDY_LEGACY_ISSUERS_UNTIL/,
    ],
  ])('refuses to start with %s, naming the variable and not the value', async (_n, env, message) => {
    const { code, output } = await runToExit('session-buddy', { SESSION_BUDDY_DATA_DIR: dataDir(), ...env });
    expect(code).toBe(1);
    expect(output).toMatch(message);
    for (const value of Object.values(env)) if (value.length > 8) expect(output).not.toContain(value);
  });
});

describe('session-buddy over stdio', () => {
  it('serves a desktop client that passes its token as a tool argument', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(WORKSPACE_ROOT, 'dist/apps/session-buddy/main.js'), '--stdio'],
      env: { PATH: process.env['PATH'] ?? '', SESSION_BUDDY_SECRET: secret, SESSION_BUDDY_DATA_DIR: dataDir() },
      stderr: 'pipe',
      cwd: join(WORKSPACE_ROOT, 'tmp'),
    });
    const client = new Client({ name: 'desktop', version: '1' });
    await client.connect(transport);
    const tools = (await client.listTools()).tools;
    expect(Object.keys(tools.find((t) => t.name === 'start')?.inputSchema.properties ?? {})).toContain('token');
    const ok = await client.callTool({ name: 'start', arguments: { project: 'desk', token: mint(secret, { sub: 'desk-user' }) } });
    expect(structured(ok)).toMatchObject({ project: 'desk', owner: 'desk-user' });
    const refused = await client.callTool({ name: 'start', arguments: { project: 'desk2' } });
    expect(refused).toMatchObject({ isError: true, content: [{ text: '❌ Authentication failed: Token required' }] });
    const expired = await client.callTool({ name: 'status', arguments: { project: 'desk', token: mint(secret, { exp: 1000 }) } });
    expect(text(expired)).toBe('❌ Authentication failed: Token has expired');
    await client.close();
  });

  it("verifies a Python peer's envelope over stdio with the numbers as written (85.0, an int beyond 2^53)", async () => {
    const child = spawn(process.execPath, [join(WORKSPACE_ROOT, 'dist/apps/session-buddy/main.js'), '--stdio'], {
      env: { PATH: process.env['PATH'] ?? '', SESSION_BUDDY_SECRET: secret, SESSION_BUDDY_DATA_DIR: dataDir() },
      cwd: join(WORKSPACE_ROOT, 'tmp'),
    });
    const replies = new Map<number, string>();
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      for (let i = pending.indexOf('\n'); i !== -1; i = pending.indexOf('\n')) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 1);
        const id = (JSON.parse(line) as { id?: number }).id;
        if (typeof id === 'number') replies.set(id, line);
      }
    });
    const reply = async (id: number) => {
      for (let n = 0; n < 200 && !replies.has(id); n++) await new Promise((r) => setTimeout(r, 25));
      return replies.get(id) ?? '';
    };
    try {
      child.stdin.write(`${JSON.stringify({ ...initializeBody, id: 1 })}\n`);
      await reply(1);
      child.stdin.write('{"jsonrpc": "2.0", "method": "notifications/initialized"}\n');
      const timestamp = new Date().toISOString().replace('Z', '+00:00');
      const signedText = `{"content": {"quality": 85.0, "sent_ns": 1764633600123456789}, "from_project": "mahavishnu", "timestamp": "${timestamp}", "to_project": "session-buddy"}`;
      const signature = createHmac('sha256', secret).update(signedText).digest('hex');
      const envelope = `{"message": ${signedText}, "signature": "${signature}", "algorithm": "HMAC-SHA256"}`;
      const token = mint(secret, { sub: 'mahavishnu', iss: 'mahavishnu' });
      const send = (id: number, env: string) =>
        child.stdin.write(
          `{"jsonrpc": "2.0", "id": ${id}, "method": "tools/call", "params": {"name": "receive_project_message", "arguments": {"envelope": ${env}, "token": "${token}"}}}\n`,
        );
      send(2, envelope.replace('85.0', '85'));
      expect(await reply(2)).toMatch(/bad_signature/);
      send(3, envelope);
      expect(await reply(3)).toContain('\\"accepted\\":true');
    } finally {
      child.kill();
    }
  });
});
