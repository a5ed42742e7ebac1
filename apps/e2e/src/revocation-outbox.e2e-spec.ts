import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './support/cli';
import { freePort, spawnApp, type RunningApp } from './support/spawn-app';
import { initializeBody, newSecret, postMcp } from './support/tokens';
import { waitFor } from './support/wait';

const secretOf = (out: string) => /client_secret:\s+(\S+)/.exec(out)?.[1] ?? '';
const basic = (id: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${pass}`).toString('base64')}` });
const OTHER_RESOURCE = 'https://reports.example/mcp';

/**
 * Removing a client while session-buddy is down: the revocation is kept in
 * the orchestrator's outbox (across its restart) and reaches session-buddy
 * when it is back; the CLI says what is pending, and what cannot be told.
 */
describe('client removal and token revocation while session-buddy is down', () => {
  const secret = newSecret();
  const sbDir = mkdtempSync(join(tmpdir(), 'outbox-sb-'));
  const orchDir = mkdtempSync(join(tmpdir(), 'outbox-orch-'));
  let sbPort: number;
  let orchPort: number;
  let sessionBuddy: RunningApp;
  let orchestrator: RunningApp;
  const startSessionBuddy = async () => {
    sessionBuddy = await spawnApp(
      'session-buddy',
      { SESSION_BUDDY_SECRET: secret, SESSION_BUDDY_DATA_DIR: sbDir, SESSION_BUDDY_AUTHORIZATION_SERVER: `http://127.0.0.1:${orchPort}` },
      sbPort,
    );
  };
  const startOrchestrator = async () => {
    orchestrator = await spawnApp(
      'orchestrator',
      {
        ORCHESTRATOR_AUTH_SECRET: secret,
        ORCHESTRATOR_SESSION_BUDDY_URL: `http://127.0.0.1:${sbPort}/mcp`,
        ORCHESTRATOR_DATA_DIR: orchDir,
        ORCHESTRATOR_REVOCATION_RETRY_MAX_SECONDS: '1',
        ORCHESTRATOR_DOWNSTREAM_RETRIES: '0',
      },
      orchPort,
    );
  };
  const admin = (args: string[]) => cli([...args, '--url', orchestrator.mcpUrl], { CROSSAUTH_SECRET: secret });
  const post = (path: string, fields: Record<string, string>, headers: Record<string, string>) =>
    fetch(`${orchestrator.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields).toString(),
    });
  const grant = async (id: string, pass: string) =>
    (
      (await (await post('/oauth/token', { grant_type: 'client_credentials', resource: sessionBuddy.mcpUrl }, basic(id, pass))).json()) as {
        access_token: string;
      }
    ).access_token;
  const statusAt = async (token: string) => {
    const res = await postMcp(`http://127.0.0.1:${sbPort}/mcp`, initializeBody, { authorization: `Bearer ${token}` });
    return { status: res.status, reason: res.status === 200 ? undefined : ((await res.json()) as { reason?: string }).reason };
  };

  beforeAll(async () => {
    [sbPort, orchPort] = await Promise.all([freePort(), freePort()]);
    await startSessionBuddy();
    await startOrchestrator();
  });
  afterAll(async () => {
    await orchestrator?.stop();
    await sessionBuddy?.stop();
  });

  it('keeps what session-buddy must be told, says it is pending, and delivers it once session-buddy is back, also after an orchestrator restart', async () => {
    const outagePass = secretOf(
      (await admin(['client', 'add', 'outage', '--scope', 'read', '--resource', sessionBuddy.mcpUrl, '--resource', OTHER_RESOURCE])).out,
    );
    const ownerPass = secretOf((await admin(['client', 'add', 'token-owner', '--scope', 'read', '--resource', sessionBuddy.mcpUrl])).out);
    const rsPass = secretOf((await admin(['client', 'add', 'resource-server', '--scope', 'read', '--resource', sessionBuddy.mcpUrl])).out);
    const removedToken = await grant('outage', outagePass);
    const revokedToken = await grant('token-owner', ownerPass);
    expect(await statusAt(removedToken)).toEqual({ status: 200, reason: undefined });
    expect(await statusAt(revokedToken)).toEqual({ status: 200, reason: undefined });

    await sessionBuddy.stop();
    const removed = await admin(['client', 'remove', 'outage']);
    expect(removed.code).toBe(0);
    expect(removed.out).toMatch(/^removed outage; its tokens issued up to \d{4}-\d\d-\d\dT[\d:.]+Z are revoked$/m);
    expect(removed.out).toMatch(
      new RegExp(
        `${sessionBuddy.mcpUrl}: PENDING after 1 attempt\\(s\\) \\(session-buddy at \\S+ could not be reached after 1 attempts\\); retried until confirmed`,
      ),
    );
    expect(removed.out).toContain(`${OTHER_RESOURCE}: not notified: verifies tokens by JWKS, which cannot carry a revocation`);
    expect(removed.out).toMatch(/tokens expire by \d{4}-/);
    // The authorization server itself knows at once: introspection calls the token inactive.
    const introspected = await post('/oauth/introspect', { token: removedToken }, basic('resource-server', rsPass));
    expect(await introspected.json()).toEqual({ active: false });
    // RFC 7009 revocation with session-buddy down is accepted too, and queued.
    expect((await post('/oauth/revoke', { token: revokedToken }, basic('token-owner', ownerPass))).status).toBe(200);

    // A retry reports the state instead of "no client".
    const again = await admin(['client', 'remove', 'outage']);
    expect(again.code).toBe(0);
    expect(again.out).toContain('already removed: outage; its tokens issued up to');
    expect(again.out).toContain(`${sessionBuddy.mcpUrl}: PENDING`);

    await orchestrator.stop();
    await startOrchestrator();
    await startSessionBuddy();
    expect(
      await waitFor(
        'the removed client refused at session-buddy',
        async () => ((await statusAt(removedToken)).reason === 'revoked' ? true : undefined),
        15_000,
      ),
    ).toBe(true);
    expect(
      await waitFor('the revoked token refused at session-buddy', async () => ((await statusAt(revokedToken)).reason === 'revoked' ? true : undefined), 15_000),
    ).toBe(true);
    const confirmed = await admin(['client', 'remove', 'outage']);
    expect(confirmed.out).toMatch(new RegExp(`${sessionBuddy.mcpUrl}: confirmed at \\d{4}-`));
    expect(orchestrator.logs().some((l) => (l.message as { event?: string }).event === 'revocation_propagated')).toBe(true);
  });

  it('answers "no client" (exit 1) for a client that never existed', async () => {
    const res = await admin(['client', 'remove', 'never-was']);
    expect(res).toMatchObject({ code: 1 });
    expect(res.out.trim()).toBe('no client never-was');
  });
});
