import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANONYMOUS_PRINCIPAL, type Principal } from '@crossauth/auth';
import { ToolError } from '@crossauth/mcp-server';
import { SqliteDatabaseService } from '@crossauth/storage';
import { SQLITE_MIGRATIONS } from '../storage/sqlite-migrations';
import { SessionsTools } from './sessions.tools';
import { SqliteSessionRepository } from './sqlite-session.repository';

const principal = (subject: string, scopes = ['read', 'write']): Principal => ({
  ...ANONYMOUS_PRINCIPAL,
  subject,
  issuer: 'orchestrator',
  scopes,
  anonymous: false,
});

async function tools() {
  const db = await SqliteDatabaseService.open(mkdtempSync(join(tmpdir(), 'sb-spec-')), 'session-buddy', SQLITE_MIGRATIONS);
  return { db, tools: new SessionsTools(new SqliteSessionRepository(db)) };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (error) {
    if (error instanceof ToolError) return error.code;
    throw error;
  }
}

describe('SessionsTools on SQLite', () => {
  it('keeps one open session per owner and project, enforced by the database', async () => {
    const { tools: t, db } = await tools();
    await t.start({ project: 'p' }, principal('a'));
    expect(await codeOf(t.start({ project: 'p' }, principal('a')))).toBe('session_already_open');
    // Another owner has their own namespace.
    expect(await codeOf(t.start({ project: 'p' }, principal('b')))).toBe('ok');
    await db.close();
  });

  it('refuses a call that names no project and one whose directory ends in an invalid name', async () => {
    const { tools: t } = await tools();
    expect(await codeOf(t.start({}, principal('a')))).toBe('invalid_argument');
    expect(await codeOf(t.start({ working_directory: '/x/has space' }, principal('a')))).toBe('invalid_argument');
  });

  it('pages through sessions with an opaque cursor, newest first, and refuses a forged cursor', async () => {
    const { tools: t } = await tools();
    for (let i = 0; i < 5; i++) {
      await t.start({ project: `p${i}` }, principal('pager'));
      await t.end({ project: `p${i}` }, principal('pager'));
    }
    const first = await t.listSessions({ limit: 2 }, principal('pager'));
    const second = await t.listSessions({ limit: 2, cursor: first.next_cursor ?? undefined }, principal('pager'));
    const third = await t.listSessions({ limit: 2, cursor: second.next_cursor ?? undefined }, principal('pager'));
    const seen = [...first.sessions, ...second.sessions, ...third.sessions].map((s) => s.project);
    expect(new Set(seen).size).toBe(5);
    expect(third.next_cursor).toBeNull();
    expect(await codeOf(t.listSessions({ limit: 2, cursor: 'bm90LWEtY3Vyc29y' }, principal('pager')))).toBe('invalid_argument');
  });

  it("shows only the caller's sessions unless the caller is admin", async () => {
    const { tools: t } = await tools();
    await t.start({ project: 'mine' }, principal('owner'));
    expect((await t.listSessions({ limit: 10 }, principal('other'))).sessions).toHaveLength(0);
    expect((await t.listSessions({ limit: 10 }, principal('root', ['admin']))).sessions).toHaveLength(1);
  });

  it('refuses an event id reused by another subject or for another kind of event', async () => {
    const { tools: t } = await tools();
    const event = { event_version: '1.0' as const, event_id: '9f0c2b3a-4d5e-4f60-8a7b-1c2d3e4f5a6b', timestamp: '2026-11-22T10:00:00Z', project: 'ev' };
    await t.trackSessionStart(event, principal('a'));
    expect(await codeOf(t.trackSessionStart(event, principal('b')))).toBe('event_id_conflict');
    expect(await codeOf(t.trackSessionEnd(event, principal('a')))).toBe('event_id_conflict');
  });

  it('refuses an end event timestamped before the session started', async () => {
    const { tools: t } = await tools();
    await t.trackSessionStart(
      { event_version: '1.0', event_id: '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed', timestamp: '2026-11-22T10:00:00Z', project: 'x' },
      principal('a'),
    );
    const end = { event_version: '1.0' as const, event_id: '6ec0bd7f-11c0-43da-975e-2a8ad9ebae0b', timestamp: '2026-11-22T09:00:00Z', project: 'x' };
    expect(await codeOf(t.trackSessionEnd(end, principal('a')))).toBe('invalid_argument');
    expect((await t.status({ project: 'x', recent: 5 }, principal('a'))).status).toBe('open');
  });
});
