import { createHmac } from 'node:crypto';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnApp, type RunningApp } from './support/spawn-app';
import { ISSUER, connect, initializeBody, mint, newSecret, postMcp, signedHeaders, structured, text } from './support/tokens';

const secret = newSecret();
/** A caller's token for the orchestrator (as `crossauth mint --aud orchestrator` would make). */
const callerToken = (sub: string, claims: Record<string, unknown> = {}, key = secret) =>
  mint(key, { sub, aud: 'orchestrator', iss: ISSUER, scope: 'read write', ...claims });

type Decision = { event: string; outcome: string; reason: string; subject?: string; actor?: string; actors?: string[]; scopes?: string[]; target: string };
const decisions = (app: RunningApp): Decision[] =>
  app
    .logs()
    .map((l) => l.message as Decision)
    .filter((m) => typeof m === 'object' && m !== null && m.event === 'auth_decision');

describe('orchestrator → session-buddy', () => {
  let sessionBuddy: RunningApp;
  let orchestrator: RunningApp;
  let dataDir: string;
  // Requests from orchestrator-issued callers must carry RFC 9421 signatures.
  const sbEnv = () => ({ SESSION_BUDDY_SECRET: secret, SESSION_BUDDY_DATA_DIR: dataDir, SESSION_BUDDY_REQUIRE_SIGNED_REQUESTS: 'orchestrator' });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cross-e2e-'));
    sessionBuddy = await spawnApp('session-buddy', sbEnv());
    orchestrator = await spawnApp('orchestrator', {
      ORCHESTRATOR_AUTH_SECRET: secret,
      ORCHESTRATOR_ISSUER: ISSUER,
      ORCHESTRATOR_SESSION_BUDDY_URL: sessionBuddy.mcpUrl,
      // A small old-space cap turns any per-call retention into a crash and keeps
      // V8 from growing its heap lazily, so RSS growth below means a real leak.
      NODE_OPTIONS: '--max-old-space-size=64',
    });
  });
  afterAll(async () => {
    await orchestrator.stop();
    await sessionBuddy.stop();
  });

  it('confirms at start-up that both services share a key', async () => {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !orchestrator.lines.some((l) => l.includes('"key_check"'))) await new Promise((r) => setTimeout(r, 100));
    const check = orchestrator.logs().find((l) => (l.message as { event?: string }).event === 'key_check');
    expect(check?.message).toMatchObject({ match: true, reachable: true });
  });

  it('performs session-buddy tools as the caller, acted for by the orchestrator, with only the scope each needs', async () => {
    const client = await connect(orchestrator.mcpUrl, callerToken('carol'));
    expect(structured(await client.callTool({ name: 'begin_project_session', arguments: { project: 'delta' } }))).toMatchObject({
      project: 'delta',
      owner: 'carol',
    });
    await client.callTool({ name: 'record_progress', arguments: { project: 'delta', notes: 'through the orchestrator', quality_score: 90 } });
    await client.callTool({ name: 'remember', arguments: { content: 'The orchestrator mints its own tokens', tags: ['cross'] } });
    const recalled = structured<{ count: number }>(await client.callTool({ name: 'recall', arguments: { query: 'orchestrator tokens' } }));
    expect(recalled.count).toBe(1);
    await client.close();

    // The data is there, owned by carol, when carol asks session-buddy directly
    // (through another trusted issuer, whose callers need not sign requests).
    const direct = await connect(sessionBuddy.mcpUrl, mint(secret, { sub: 'carol', iss: 'mahavishnu' }));
    expect(structured(await direct.callTool({ name: 'status', arguments: { project: 'delta' } }))).toMatchObject({ owner: 'carol', checkpoints: 1 });
    await direct.close();

    const start = decisions(sessionBuddy).find((d) => d.target === 'tools/call:start' && d.subject === 'carol');
    expect(start).toMatchObject({ outcome: 'allow', actor: 'orchestrator', scopes: ['write'] });
    const search = decisions(sessionBuddy).find((d) => d.target === 'tools/call:quick_search' && d.subject === 'carol');
    expect(search).toMatchObject({ outcome: 'allow', actor: 'orchestrator', scopes: ['read'] });
  });

  it("keeps the delegation chain when the caller itself acts for someone: session-buddy's audit names the subject and every actor", async () => {
    // A service (mahavishnu) acting for erin calls the orchestrator, which calls session-buddy for erin.
    const client = await connect(orchestrator.mcpUrl, callerToken('erin', { act: { sub: 'mahavishnu' } }));
    expect(structured(await client.callTool({ name: 'begin_project_session', arguments: { project: 'chain' } }))).toMatchObject({ owner: 'erin' });
    await client.close();
    const start = decisions(sessionBuddy).find((d) => d.target === 'tools/call:start' && d.subject === 'erin');
    expect(start).toMatchObject({ outcome: 'allow', actor: 'orchestrator', actors: ['orchestrator', 'mahavishnu'] });
  });

  it('refuses unsigned requests from orchestrator-issued tokens, and a signed request replayed byte for byte', async () => {
    const token = mint(secret, { sub: 'signer' });
    const unsigned = await postMcp(sessionBuddy.mcpUrl, initializeBody, { authorization: `Bearer ${token}` });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toMatchObject({ reason: 'signature_missing' });

    const body = JSON.stringify(initializeBody);
    const headers = {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...signedHeaders(secret, 'POST', sessionBuddy.mcpUrl, body),
    };
    const first = await fetch(sessionBuddy.mcpUrl, { method: 'POST', headers, body });
    expect(first.status).toBe(200);
    await first.body?.cancel();
    const replay = await fetch(sessionBuddy.mcpUrl, { method: 'POST', headers, body });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ reason: 'signature_replayed' });

    const tampered = await fetch(sessionBuddy.mcpUrl, {
      method: 'POST',
      headers: { ...headers, ...signedHeaders(secret, 'POST', sessionBuddy.mcpUrl, body) },
      body: body.replace('e2e-raw', 'e2e-evil'),
    });
    expect(await tampered.json()).toMatchObject({ reason: 'digest_mismatch' });
    const denials = decisions(sessionBuddy)
      .filter((d) => d.subject === 'signer' && d.outcome === 'deny')
      .map((d) => d.reason);
    expect(denials).toEqual(['signature_missing', 'signature_replayed', 'digest_mismatch']);
  });

  it('does not require signatures from issuers that are not listed', async () => {
    const client = await connect(sessionBuddy.mcpUrl, mint(secret, { sub: 'pythonic', iss: 'mahavishnu' }));
    expect(structured(await client.callTool({ name: 'health_check', arguments: {} }))).toMatchObject({ status: 'ok' });
    await client.close();
  });

  it('delivers a signed project message through the orchestrator, once', async () => {
    const client = await connect(orchestrator.mcpUrl, callerToken('iris'));
    const sent = await client.callTool({ name: 'send_project_message', arguments: { content: { note: 'handoff ✓' } } });
    expect(structured(sent)).toEqual({ accepted: true, from_project: 'orchestrator', to_project: 'session-buddy' });
    const misaddressed = await client.callTool({ name: 'send_project_message', arguments: { to_project: 'mahavishnu', content: 'x' } });
    expect(text(misaddressed)).toMatch(/envelope refused: wrong_recipient/);
    await client.close();
    const reader = await connect(sessionBuddy.mcpUrl, mint(secret, { sub: 'reader', iss: 'mahavishnu', scope: 'read' }));
    const listed = structured<{ messages: Array<{ content: unknown; delivered_by: string }> }>(
      await reader.callTool({ name: 'list_project_messages', arguments: {} }),
    );
    expect(listed.messages).toEqual([expect.objectContaining({ content: { note: 'handoff ✓' }, delivered_by: 'iris', from_project: 'orchestrator' })]);
    await reader.close();
  });

  it('accepts an envelope signed the way the Python predecessors sign, and refuses its replay', async () => {
    const timestamp = new Date().toISOString().replace('Z', '+00:00');
    const message = { content: 'from python', from_project: 'mahavishnu', timestamp, to_project: 'session-buddy' };
    // json.dumps(message, sort_keys=True): keys already sorted, ", " and ": " separators.
    const python = `{"content": "from python", "from_project": "mahavishnu", "timestamp": "${timestamp}", "to_project": "session-buddy"}`;
    const signature = createHmac('sha256', secret).update(python).digest('hex');
    const envelope = { message, signature, algorithm: 'HMAC-SHA256' };
    const client = await connect(sessionBuddy.mcpUrl, mint(secret, { sub: 'mahavishnu', iss: 'mahavishnu' }));
    expect(structured(await client.callTool({ name: 'receive_project_message', arguments: { envelope } }))).toMatchObject({ accepted: true });
    const replay = await client.callTool({ name: 'receive_project_message', arguments: { envelope } });
    expect(replay.isError).toBe(true);
    expect(text(replay)).toMatch(/replayed/);
    await client.close();
  });

  it("accepts a Python peer's envelope whose numbers JSON.parse would rewrite (85.0, an int beyond 2^53), and stores them as sent", async () => {
    const timestamp = new Date().toISOString().replace('Z', '+00:00');
    // What Python sends: json.dumps keeps 85.0 a float and time.time_ns() an exact int.
    const content = '{"quality": 85.0, "sent_ns": 1764633600123456789}';
    const signedText = `{"content": ${content}, "from_project": "mahavishnu", "timestamp": "${timestamp}", "to_project": "session-buddy"}`;
    const signature = createHmac('sha256', secret).update(signedText).digest('hex');
    const envelope = `{"message": ${signedText}, "signature": "${signature}", "algorithm": "HMAC-SHA256"}`;
    const bearer = { authorization: `Bearer ${mint(secret, { sub: 'mahavishnu', iss: 'mahavishnu' })}` };
    const init = await postMcp(sessionBuddy.mcpUrl, initializeBody, bearer);
    const session = { ...bearer, 'mcp-session-id': init.headers.get('mcp-session-id') ?? '' };
    const call = (env: string) =>
      fetch(sessionBuddy.mcpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...session },
        body: `{"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "receive_project_message", "arguments": {"envelope": ${env}}}}`,
      }).then((r) => r.json() as Promise<{ result: { isError?: boolean; content: Array<{ text: string }> } }>);
    const tampered = await call(envelope.replace('85.0', '85'));
    expect(tampered.result.isError).toBe(true);
    expect(tampered.result.content[0]?.text).toMatch(/bad_signature/);
    const accepted = await call(envelope);
    expect(accepted.result.isError).toBeUndefined();
    expect(accepted.result.content[0]?.text).toContain('"accepted":true');
    const stored = new Database(join(dataDir, 'session-buddy.sqlite'), { readonly: true });
    try {
      const row = stored.prepare('SELECT content FROM project_messages WHERE signature = ?').get(signature) as { content: string };
      expect(row.content).toBe('{"quality":85.0,"sent_ns":1764633600123456789}');
    } finally {
      stored.close();
    }
  });

  it("returns session-buddy's tool errors to the caller intact", async () => {
    const client = await connect(orchestrator.mcpUrl, callerToken('dave'));
    const result = await client.callTool({ name: 'record_progress', arguments: { project: 'nothing-open', notes: 'x' } });
    expect(result).toMatchObject({ isError: true });
    expect(text(result)).toBe('project nothing-open has no open session; call start first');
    const invalid = await client.callTool({ name: 'begin_project_session', arguments: { project: 'bad/name' } });
    expect(invalid.isError).toBe(true);
    expect(text(invalid)).toMatch(/project must be/);
    await client.close();
  });

  it.each([
    ['an expired token', () => callerToken('eve', { exp: Math.floor(Date.now() / 1000) - 120 }), 'expired'],
    ['a token minted for session-buddy (no passthrough)', () => mint(secret, { sub: 'eve' }), 'wrong_audience'],
    ['a token from an issuer the orchestrator does not trust', () => callerToken('eve', { iss: 'mahavishnu' }), 'wrong_issuer'],
  ])('refuses %s with 401 and the challenge', async (_n, token, reason) => {
    const res = await postMcp(orchestrator.mcpUrl, initializeBody, { authorization: `Bearer ${token()}` });
    expect(res.status).toBe(401);
    // The challenge names the scopes the orchestrator's tools need (its metadata's scopes_supported).
    const metadata = (await (await fetch(`${orchestrator.url}/.well-known/oauth-protected-resource/mcp`)).json()) as { scopes_supported: string[] };
    expect(metadata.scopes_supported.length).toBeGreaterThan(0);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer error="invalid_token", error_description="${reason}: ${((await res.json()) as { error_description: string }).error_description}", scope="${metadata.scopes_supported.join(' ')}", resource_metadata="${orchestrator.url}/.well-known/oauth-protected-resource/mcp"`,
    );
  });

  it('refuses an under-scoped caller with 403 and never reaches session-buddy', async () => {
    const before = decisions(sessionBuddy).length;
    const token = callerToken('frank', { scope: 'read' });
    const init = await postMcp(orchestrator.mcpUrl, initializeBody, { authorization: `Bearer ${token}` });
    const res = await postMcp(
      orchestrator.mcpUrl,
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'begin_project_session', arguments: { project: 'x' } } },
      { authorization: `Bearer ${token}`, 'mcp-session-id': init.headers.get('mcp-session-id') ?? '' },
    );
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain(
      'error="insufficient_scope", error_description="insufficient_scope: Token lacks a required scope", scope="write"',
    );
    expect(
      decisions(sessionBuddy)
        .slice(before)
        .filter((d) => d.subject === 'frank'),
    ).toEqual([]);
  });

  it('survives a session-buddy restart: data kept, the next call recovers', async () => {
    const client = await connect(orchestrator.mcpUrl, callerToken('gina'));
    await client.callTool({ name: 'begin_project_session', arguments: { project: 'epsilon' } });
    const port = sessionBuddy.port;
    await sessionBuddy.kill();

    const down = await client.callTool({ name: 'project_status', arguments: { project: 'epsilon' } });
    expect(down.isError).toBe(true);
    expect(text(down)).toMatch(/could not be reached after \d+ attempts/);

    sessionBuddy = await spawnApp('session-buddy', sbEnv(), port);
    const status = structured(await client.callTool({ name: 'project_status', arguments: { project: 'epsilon' } }));
    expect(status).toMatchObject({ project: 'epsilon', owner: 'gina', status: 'open' });
    await client.close();
  });

  it('makes 5,000 calls through one long-lived client without leaking listeners or memory', async () => {
    const client = await connect(orchestrator.mcpUrl, callerToken('load', { scope: 'read write' }));
    await client.callTool({ name: 'begin_project_session', arguments: { project: 'load' } });
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${orchestrator.process.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    const call = () => client.callTool({ name: 'project_status', arguments: { project: 'load' } });
    for (let i = 0; i < 1000; i++) await call();
    const warm = rss();
    for (let i = 0; i < 4000; i++) {
      const r = await call();
      if (r.isError) throw new Error(text(r));
    }
    const after = rss();
    await client.close();
    expect(orchestrator.lines.join('\n')).not.toMatch(/MaxListenersExceededWarning|memory leak|heap out of memory/i);
    expect(orchestrator.process.exitCode).toBeNull();
    // RSS after 5,000 calls within 15% of RSS after the first 1,000. (Before the
    // SDK JSON-mode leak was worked around, this process died near 4,000 calls.)
    expect(after).toBeLessThan(warm * 1.15);
  }, 180_000);
});

describe('orchestrator with a different secret', () => {
  it('is refused by session-buddy and says plainly that the secrets differ', async () => {
    const sb = await spawnApp('session-buddy', { SESSION_BUDDY_SECRET: secret, SESSION_BUDDY_DATA_DIR: mkdtempSync(join(tmpdir(), 'mismatch-')) });
    const otherSecret = newSecret();
    const orch = await spawnApp('orchestrator', {
      ORCHESTRATOR_AUTH_SECRET: otherSecret,
      ORCHESTRATOR_ISSUER: ISSUER,
      ORCHESTRATOR_SESSION_BUDDY_URL: sb.mcpUrl,
      ORCHESTRATOR_DOWNSTREAM_RETRIES: '0',
    });
    try {
      const client = await connect(orch.mcpUrl, callerToken('henry', { scope: 'read write admin' }, otherSecret));
      const result = await client.callTool({ name: 'begin_project_session', arguments: { project: 'zeta' } });
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(/unknown_key.*Key mismatch: the orchestrator and session-buddy do not share a secret/);
      const diagnostics = structured(await client.callTool({ name: 'session_buddy_diagnostics', arguments: {} }));
      expect(diagnostics).toMatchObject({ keys_match: false, reachable: true });
      expect(String(diagnostics['detail'])).toMatch(/key mismatch/);
      await client.close();
      const deny = decisions(sb).find((d) => d.reason === 'unknown_key');
      expect(deny).toMatchObject({ outcome: 'deny' });
      expect(sb.lines.join('\n')).toMatch(/do not share a secret/);
    } finally {
      await orch.stop();
      await sb.stop();
    }
  });
});

describe('both apps come up the way the README says', () => {
  it('`npm start` serves both services (via nx serve) on the configured ports', async () => {
    const { spawn } = await import('node:child_process');
    const [sbPort, orchPort] = [await freePort(), await freePort()];
    const s = newSecret();
    const child = spawn('npm', ['start'], {
      cwd: join(__dirname, '..', '..', '..'),
      detached: true,
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '/tmp',
        SESSION_BUDDY_SECRET: s,
        ORCHESTRATOR_AUTH_SECRET: s,
        SESSION_BUDDY_PORT: String(sbPort),
        SESSION_BUDDY_DATA_DIR: mkdtempSync(join(tmpdir(), 'npm-start-')),
        // The orchestrator's default data directory, away from the machine's real one.
        XDG_DATA_HOME: mkdtempSync(join(tmpdir(), 'npm-start-data-')),
        ORCHESTRATOR_PORT: String(orchPort),
        ORCHESTRATOR_SESSION_BUDDY_URL: `http://127.0.0.1:${sbPort}/mcp`,
        // The orchestrator's issuer is its URL, which moved with its port.
        SESSION_BUDDY_AUTHORIZATION_SERVER: `http://127.0.0.1:${orchPort}`,
        // This nx runs inside the outer `nx run e2e:e2e`; its own workspace data avoids waiting on the outer one's.
        NX_WORKSPACE_DATA_DIRECTORY: mkdtempSync(join(tmpdir(), 'nx-inner-')),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (c: Buffer) => (output = (output + c.toString()).slice(-200_000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    try {
      const ready = async (port: number) => {
        const deadline = Date.now() + 120_000;
        while (Date.now() < deadline) {
          try {
            if ((await fetch(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource`)).ok) return true;
          } catch {
            // not yet
          }
          await new Promise((r) => setTimeout(r, 250));
        }
        return false;
      };
      const up = [await ready(sbPort), await ready(orchPort)];
      // On failure, show what `npm start` printed.
      const tail = output
        .split('\n')
        .filter((l) => !/InstanceLoader|RouterExplorer|RoutesResolver/.test(l))
        .slice(-40)
        .join('\n');
      expect({ up, output: up.every(Boolean) ? '' : tail }).toEqual({ up: [true, true], output: '' });
      const client = await connect(`http://127.0.0.1:${orchPort}/mcp`, mint(s, { sub: 'readme', aud: 'orchestrator', iss: `http://127.0.0.1:${orchPort}` }));
      expect(structured(await client.callTool({ name: 'begin_project_session', arguments: { project: 'readme' } }))).toMatchObject({ owner: 'readme' });
      await client.close();
    } finally {
      // `npm start` stops both services itself when one cannot start; the group may be gone already.
      try {
        if (child.pid) process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already exited
      }
      await new Promise((r) => setTimeout(r, 500));
      if (child.pid) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }, 180_000);
});
