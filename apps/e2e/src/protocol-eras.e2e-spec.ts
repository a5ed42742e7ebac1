import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { spawnApp, WORKSPACE_ROOT, type RunningApp } from './support/spawn-app';
import { ISSUER, connect, initializeBody, mint, newSecret, postMcp, structured, text } from './support/tokens';

const MODERN = '2026-07-28';
const secret = newSecret();
const envelope = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} };
/** A token for calling session-buddy directly, from an issuer it trusts without request signatures. */
const direct = (claims: Record<string, unknown> = {}) => mint(secret, { iss: 'mahavishnu', ...claims });
const callerToken = (sub: string, claims: Record<string, unknown> = {}) =>
  mint(secret, { sub, aud: 'orchestrator', iss: ISSUER, scope: 'read write', ...claims });

/** The Python MCP client lives in the venv `npm test` prepares (tools/python/requirements.txt). */
const python = process.env['CROSSAUTH_TEST_PYTHON'] ?? join(WORKSPACE_ROOT, 'tmp', 'python-mcp', 'bin', 'python');

async function modernClient(url: string, token: string): Promise<ModernClient> {
  const client = new ModernClient({ name: 'e2e-modern', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(new ModernTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

/** A 2026-07-28 POST with its standard headers; `headers` override them, undefined removes one. */
function modernPost(url: string, method: string, params: Record<string, unknown>, headers: Record<string, string | undefined>): Promise<Response> {
  const all: Record<string, string | undefined> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN,
    'mcp-method': method,
    ...(typeof params['name'] === 'string' ? { 'mcp-name': params['name'] } : {}),
    ...headers,
  };
  return fetch(url, {
    method: 'POST',
    headers: Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined)),
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: envelope } }),
  });
}

async function pythonClient(
  url: string,
  era: 'legacy' | 'modern',
  token: string | undefined,
  tool: string,
  args: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const script = join(WORKSPACE_ROOT, 'apps', 'e2e', 'src', 'support', 'python-mcp-client.py');
  const env = { PATH: process.env['PATH'] ?? '', ...(token ? { MCP_TOKEN: token } : {}) };
  const { stdout } = await promisify(execFile)(python, [script, url, era, tool, JSON.stringify(args)], { env, timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
}

const logEvents = (app: RunningApp, event: string) => app.logs().filter((l) => (l.message as { event?: string } | undefined)?.event === event);

describe('one /mcp endpoint, both protocol eras', () => {
  let sessionBuddy: RunningApp;
  let orchestrator: RunningApp;

  beforeAll(async () => {
    sessionBuddy = await spawnApp('session-buddy', {
      SESSION_BUDDY_SECRET: secret,
      SESSION_BUDDY_DATA_DIR: mkdtempSync(join(tmpdir(), 'eras-')),
      SESSION_BUDDY_REQUIRE_SIGNED_REQUESTS: 'orchestrator',
    });
    orchestrator = await spawnApp('orchestrator', {
      ORCHESTRATOR_AUTH_SECRET: secret,
      ORCHESTRATOR_ISSUER: ISSUER,
      ORCHESTRATOR_SESSION_BUDDY_URL: sessionBuddy.mcpUrl,
    });
  });
  afterAll(async () => {
    await orchestrator.stop();
    await sessionBuddy.stop();
  });

  describe('2026-07-28', () => {
    it('lists and calls session-buddy tools with a Bearer token, statelessly (SDK v2 client)', async () => {
      const client = await modernClient(sessionBuddy.mcpUrl, direct({ sub: 'mia', scope: 'read write' }));
      try {
        expect(client.getProtocolEra()).toBe('modern');
        const names = (await client.listTools()).tools.map((t) => t.name);
        expect(names).toEqual(expect.arrayContaining(['start', 'status', 'health_check']));
        // Only what the scopes allow: no admin or delete tools for read+write.
        expect(names).not.toContain('revoke_token');
        expect(names).not.toContain('delete_reflection');
        const started = await client.callTool({ name: 'start', arguments: { project: 'modern-one' } });
        expect(started.isError).toBeFalsy();
        const status = await client.callTool({ name: 'status', arguments: { project: 'modern-one' } });
        expect(structured<{ project: string }>(status).project).toBe('modern-one');
      } finally {
        await client.close();
      }
      // No session was opened for any of it.
      expect(logEvents(sessionBuddy, 'mcp_session_opened').filter((l) => (l.message as { subject?: string }).subject === 'mia')).toHaveLength(0);
    });

    it('advertises the OAuth client-credentials extension in server/discover, on both apps', async () => {
      for (const [app, bearer] of [
        [sessionBuddy, direct()],
        [orchestrator, callerToken('disco')],
      ] as const) {
        const res = await modernPost(app.mcpUrl, 'server/discover', {}, { authorization: `Bearer ${bearer}` });
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ result: { capabilities: { extensions: { 'io.modelcontextprotocol/oauth-client-credentials': {} } } } });
      }
    });

    it('refuses a request without a token: 401 with scope and resource_metadata', async () => {
      const res = await modernPost(sessionBuddy.mcpUrl, 'tools/list', {}, {});
      expect(res.status).toBe(401);
      const metadata = (await (await fetch(`${sessionBuddy.url}/.well-known/oauth-protected-resource/mcp`)).json()) as { scopes_supported: string[] };
      expect(res.headers.get('www-authenticate')).toBe(
        `Bearer scope="${metadata.scopes_supported.join(' ')}", resource_metadata="${sessionBuddy.url}/.well-known/oauth-protected-resource/mcp"`,
      );
    });

    it.each([
      ['a bad signature', () => mint(newSecret(), { iss: 'mahavishnu' }), 'unknown_key'],
      ['the wrong audience', () => direct({ aud: 'orchestrator' }), 'wrong_audience'],
      ['an expired token', () => direct({ exp: Math.floor(Date.now() / 1000) - 120 }), 'expired'],
    ])('refuses %s: 401 naming what failed', async (_what, token, reason) => {
      const res = await modernPost(sessionBuddy.mcpUrl, 'tools/list', {}, { authorization: `Bearer ${token()}` });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(
        new RegExp(`^Bearer error="invalid_token", error_description="${reason}: [^"]+", scope="[^"]+", resource_metadata="`),
      );
    });

    it('refuses an under-scoped call with 403 insufficient_scope naming the missing scope', async () => {
      const res = await modernPost(
        sessionBuddy.mcpUrl,
        'tools/call',
        { name: 'delete_reflection', arguments: { id: 1 } },
        { authorization: `Bearer ${direct({ scope: 'read write' })}` },
      );
      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
      expect(res.headers.get('www-authenticate')).toContain('scope="delete"');
    });

    it('refuses Mcp-Name naming the public tool while the body calls a protected one (400, nothing runs)', async () => {
      const before = logEvents(sessionBuddy, 'auth_decision').length;
      const res = await modernPost(
        sessionBuddy.mcpUrl,
        'tools/call',
        { name: 'delete_reflection', arguments: { id: 1 } },
        { authorization: `Bearer ${direct({ scope: 'read' })}`, 'mcp-name': 'health_check' },
      );
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32020);
      expect(
        logEvents(sessionBuddy, 'auth_decision')
          .slice(before)
          .filter((l) => String((l.message as { target?: string }).target).includes('delete_reflection')),
      ).toHaveLength(0);
    });

    it('checks the token before the headers: a mismatched Mcp-Name with a bad token is a 401, not a 400', async () => {
      const res = await modernPost(
        sessionBuddy.mcpUrl,
        'tools/call',
        { name: 'delete_reflection', arguments: { id: 1 } },
        { authorization: `Bearer ${direct({ exp: Math.floor(Date.now() / 1000) - 120 })}`, 'mcp-name': 'health_check' },
      );
      expect(res.status).toBe(401);
    });

    it('refuses Mcp-Method disagreeing with the body (400)', async () => {
      const res = await modernPost(
        sessionBuddy.mcpUrl,
        'tools/call',
        { name: 'health_check', arguments: {} },
        { authorization: `Bearer ${direct()}`, 'mcp-method': 'tools/list' },
      );
      expect(res.status).toBe(400);
    });

    it('the orchestrator speaks it to session-buddy: one POST per call, no session, act claim intact', async () => {
      const client = await modernClient(orchestrator.mcpUrl, callerToken('nia'));
      try {
        expect(client.getProtocolEra()).toBe('modern');
        const result = await client.callTool({ name: 'begin_project_session', arguments: { project: 'modern-hop' } });
        expect(result.isError).toBeFalsy();
      } finally {
        await client.close();
      }
      expect(logEvents(orchestrator, 'session_buddy_era').map((l) => (l.message as { era: string }).era)).toContain('modern');
      expect(logEvents(sessionBuddy, 'mcp_session_opened').filter((l) => (l.message as { subject?: string }).subject === 'nia')).toHaveLength(0);
      const allowed = logEvents(sessionBuddy, 'auth_decision')
        .map((l) => l.message as { outcome: string; subject?: string; actor?: string; target: string })
        .find((m) => m.subject === 'nia' && m.target === 'tools/call:start');
      expect(allowed).toMatchObject({ outcome: 'allow', actor: 'orchestrator' });
    });

    it('lists and calls with the Python MCP client', async () => {
      const out = await pythonClient(sessionBuddy.mcpUrl, 'modern', direct({ sub: 'py-modern', scope: 'read' }), 'health_check', {});
      expect(out['error']).toBeUndefined();
      expect(out['protocol_version']).toBe(MODERN);
      expect(out['tools']).toContain('status');
      expect(out['tools']).not.toContain('start');
    }, 60_000);
  });

  describe('2025 era on the same endpoint', () => {
    it('keeps sessions for SDK 1.x clients, bound to their principal', async () => {
      const owner = await connect(sessionBuddy.mcpUrl, direct({ sub: 'leo' }));
      const sessionId = (owner.transport as { sessionId?: string }).sessionId;
      expect(sessionId).toBeTruthy();
      expect(text(await owner.callTool({ name: 'start', arguments: { project: 'legacy-one' } }))).toBeTruthy();
      // Someone else's valid token cannot ride leo's session.
      const res = await postMcp(
        sessionBuddy.mcpUrl,
        { jsonrpc: '2.0', id: 2, method: 'tools/list' },
        { authorization: `Bearer ${direct({ sub: 'mallory' })}`, 'mcp-session-id': sessionId as string },
      );
      expect(res.status).toBe(403);
      await owner.close();
    });

    it('refuses an initialize sent with a 2026-07-28 protocol header (400), and an unauthenticated initialize (401)', async () => {
      const mixed = await postMcp(sessionBuddy.mcpUrl, initializeBody, { authorization: `Bearer ${direct()}`, 'mcp-protocol-version': MODERN });
      expect(mixed.status).toBe(400);
      const anonymous = await postMcp(sessionBuddy.mcpUrl, initializeBody);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toContain('resource_metadata=');
    });

    it('serves the Python MCP client over the initialize handshake, and refuses it without a token', async () => {
      const out = await pythonClient(sessionBuddy.mcpUrl, 'legacy', direct({ sub: 'py-legacy', scope: 'read' }), 'health_check', {});
      expect(out['error']).toBeUndefined();
      expect(String(out['protocol_version'])).toMatch(/^2025-/);
      expect((out['result'] as { isError?: boolean }).isError).toBeFalsy();
      const before = logEvents(sessionBuddy, 'auth_decision').length;
      const refused = await pythonClient(sessionBuddy.mcpUrl, 'legacy', undefined, 'health_check', {});
      // The Python client reports any HTTP refusal this way; session-buddy's audit says why.
      expect(String(refused['error'])).toContain('MCPError: Server returned an error response');
      const denied = logEvents(sessionBuddy, 'auth_decision')
        .slice(before)
        .map((l) => l.message as { outcome: string; reason: string });
      expect(denied).toContainEqual(expect.objectContaining({ outcome: 'deny', reason: 'missing' }));
    }, 60_000);
  });
});

describe('orchestrator falls back to the 2025 era when session-buddy does not offer 2026-07-28', () => {
  it('probes once, uses sessions, and every call still works', async () => {
    const sb = await spawnApp('session-buddy', {
      SESSION_BUDDY_SECRET: secret,
      SESSION_BUDDY_DATA_DIR: mkdtempSync(join(tmpdir(), 'eras-legacy-')),
      SESSION_BUDDY_MCP_2026: 'false',
    });
    const orch = await spawnApp('orchestrator', { ORCHESTRATOR_AUTH_SECRET: secret, ORCHESTRATOR_ISSUER: ISSUER, ORCHESTRATOR_SESSION_BUDDY_URL: sb.mcpUrl });
    try {
      // A 2025-only server does not know the revision: its envelope is no session and no initialize.
      const modern = await modernPost(sb.mcpUrl, 'tools/list', {}, { authorization: `Bearer ${direct()}` });
      expect(modern.status).toBe(400);
      const client = await modernClient(orch.mcpUrl, callerToken('oli'));
      try {
        for (const project of ['fallback-a', 'fallback-b']) {
          const result = await client.callTool({ name: 'begin_project_session', arguments: { project } });
          expect(result.isError).toBeFalsy();
        }
      } finally {
        await client.close();
      }
      expect(logEvents(orch, 'session_buddy_era').map((l) => (l.message as { era: string }).era)).toEqual(['legacy']);
      expect(logEvents(sb, 'mcp_session_opened').length).toBeGreaterThan(0);
    } finally {
      await orch.stop();
      await sb.stop();
    }
  });
});

test('the Python MCP client is installed for this suite', () => {
  expect(existsSync(python)).toBe(true);
});
