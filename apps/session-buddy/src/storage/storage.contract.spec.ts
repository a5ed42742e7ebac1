import { randomUUID } from 'node:crypto';
import { parseExactJson } from '@crossauth/auth';
import { PostgresProjectMessageRepository } from '../messages/postgres-project-message.repository';
import type { ProjectMessageRepository } from '../messages/project-message.repository';
import { SqliteProjectMessageRepository } from '../messages/sqlite-project-message.repository';
import { PostgresReflectionRepository } from '../reflections/postgres-reflection.repository';
import type { ReflectionRepository } from '../reflections/reflection.repository';
import { SqliteReflectionRepository } from '../reflections/sqlite-reflection.repository';
import { PostgresSessionRepository } from '../sessions/postgres-session.repository';
import type { SessionRecord, SessionRepository } from '../sessions/session.repository';
import { SqliteSessionRepository } from '../sessions/sqlite-session.repository';
import { PostgresRevocationRepository, SqliteRevocationRepository, type RevocationRepository } from '@crossauth/storage';
import { testEngines } from '@crossauth/storage/testing';
import { POSTGRES_MIGRATIONS } from './postgres-migrations';
import { SQLITE_MIGRATIONS } from './sqlite-migrations';
import type { StorageEngine } from './storage-engine';

/**
 * One contract, every engine: the same calls must give the same answers on
 * SQLite and on PostgreSQL (ordering, cursors, ranking ties, owner scoping,
 * idempotency). PostgreSQL runs when CROSSAUTH_TEST_DATABASE_URL is set
 * (`.ci/run` sets it); each run gets its own schema.
 */

const repositories = (engine: StorageEngine) =>
  engine.kind === 'postgres'
    ? {
        sessions: new PostgresSessionRepository(engine) as SessionRepository,
        reflections: new PostgresReflectionRepository(engine) as ReflectionRepository,
        messages: new PostgresProjectMessageRepository(engine) as ProjectMessageRepository,
        revocations: new PostgresRevocationRepository(engine) as RevocationRepository,
      }
    : {
        sessions: new SqliteSessionRepository(engine),
        reflections: new SqliteReflectionRepository(engine),
        messages: new SqliteProjectMessageRepository(engine),
        revocations: new SqliteRevocationRepository(engine),
      };

const engines = testEngines('session-buddy', { sqlite: SQLITE_MIGRATIONS, postgres: POSTGRES_MIGRATIONS }, 4);

describe.each(engines)('storage contract on $name', (spec) => {
  let engine: StorageEngine;
  let others: StorageEngine[];
  let repo: ReturnType<typeof repositories>;
  beforeAll(async () => {
    // Three instances start together on an empty database: the migration lock must serialise them.
    [engine, ...others] = (await Promise.all([spec.open(), spec.open(), spec.open()])) as [StorageEngine, ...StorageEngine[]];
    repo = repositories(engine);
  });
  afterAll(async () => {
    await Promise.all([engine, ...others].map((e) => e.close()));
    await spec.cleanup();
  });

  const open = (owner: string, project: string, startedAt: number, id: string = randomUUID(), startEventId: string | null = null) =>
    repo.sessions.insertOpen({ id, owner, project, workingDirectory: null, startedAt, startEventId });

  describe('sessions', () => {
    it('keeps at most one open session per owner and project, and lets another owner or a later session in', async () => {
      const first = await open('ann', 'p', 1000);
      expect(first).toMatchObject({ owner: 'ann', project: 'p', status: 'open', endedAt: null });
      expect(await open('ann', 'p', 1001)).toBeUndefined();
      expect(await open('bob', 'p', 1002)).toMatchObject({ owner: 'bob' });
      expect(await repo.sessions.close(first?.id as string, 2000, 'done')).toMatchObject({ status: 'closed', endedAt: 2000, summary: 'done' });
      expect(await repo.sessions.close(first?.id as string, 3000, 'again')).toBeUndefined();
      expect(await open('ann', 'p', 3000)).toMatchObject({ status: 'open' });
    });

    it('finds sessions by their start and end event ids, and never records an event id twice', async () => {
      const event = randomUUID();
      const session = await open('eve', 'events', 5000, randomUUID(), event);
      expect(await open('eve', 'events-2', 5001, randomUUID(), event)).toBeUndefined();
      const end = randomUUID();
      await repo.sessions.close(session?.id as string, 6000, null, end);
      expect(await repo.sessions.findByEvent(event)).toMatchObject({ kind: 'start', session: { id: session?.id } });
      expect(await repo.sessions.findByEvent(end)).toMatchObject({ kind: 'end', session: { id: session?.id, status: 'closed' } });
      expect(await repo.sessions.findByEvent(randomUUID())).toBeUndefined();
    });

    it('lists newest first with ids breaking ties, and pages by keyset cursor with no row lost or repeated', async () => {
      const made: SessionRecord[] = [];
      // 13 sessions on 4 distinct start times: ties everywhere.
      for (let i = 0; i < 13; i++) made.push((await open('pager', `proj-${i}`, 10_000 + (i % 4))) as SessionRecord);
      const expected = [...made].sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : -1)).map((s) => s.id);
      expect((await repo.sessions.list({ owner: 'pager', limit: 100 })).map((s) => s.id)).toEqual(expected);
      const paged: string[] = [];
      let before: { startedAt: number; id: string } | undefined;
      for (;;) {
        const page = await repo.sessions.list({ owner: 'pager', limit: 4, before });
        paged.push(...page.map((s) => s.id));
        const last = page[page.length - 1];
        if (page.length < 4 || !last) break;
        before = { startedAt: last.startedAt, id: last.id };
      }
      expect(paged).toEqual(expected);
    });

    it('filters by owner, project, status and time window; no owner means everyone', async () => {
      await open('fil', 'a', 20_000);
      const closed = await open('fil', 'b', 20_100);
      await repo.sessions.close(closed?.id as string, 20_200, null);
      await open('other', 'a', 20_050);
      expect((await repo.sessions.list({ owner: 'fil', limit: 10 })).map((s) => s.project)).toEqual(['b', 'a']);
      expect((await repo.sessions.list({ owner: 'fil', project: 'a', limit: 10 })).map((s) => s.owner)).toEqual(['fil']);
      expect((await repo.sessions.list({ owner: 'fil', status: 'closed', limit: 10 })).map((s) => s.project)).toEqual(['b']);
      expect((await repo.sessions.list({ owner: 'fil', since: 20_050, until: 20_150, limit: 10 })).map((s) => s.project)).toEqual(['b']);
      const everyone = await repo.sessions.list({ since: 20_000, until: 20_101, limit: 10 });
      expect(new Set(everyone.map((s) => s.owner))).toEqual(new Set(['fil', 'other']));
    });

    it('stores checkpoints in the open session only, with their files, counts them, and returns the newest first', async () => {
      expect(await repo.sessions.addCheckpointToOpen('cp', 'p', { createdAt: 1, notes: 'none open', qualityScore: null, files: [] })).toBeUndefined();
      const s = (await open('cp', 'p', 30_000)) as SessionRecord;
      for (let i = 1; i <= 3; i++) {
        const added = await repo.sessions.addCheckpointToOpen('cp', 'p', {
          createdAt: 30_000 + i,
          notes: `n${i}`,
          qualityScore: i === 2 ? null : 50 + i,
          files: [`f${i}.ts`, 'é/ü.md'],
        });
        expect(added?.checkpoint).toMatchObject({ sessionId: s.id, notes: `n${i}`, files: [`f${i}.ts`, 'é/ü.md'] });
        expect(added?.total).toBe(i);
        expect(typeof added?.checkpoint.id).toBe('number');
      }
      // Another owner's project of the same name has no open session.
      expect(await repo.sessions.addCheckpointToOpen('someone-else', 'p', { createdAt: 1, notes: 'x', qualityScore: null, files: [] })).toBeUndefined();
      expect(await repo.sessions.countCheckpoints(s.id)).toBe(3);
      expect((await repo.sessions.checkpoints(s.id, 2)).map((c) => [c.notes, c.qualityScore])).toEqual([
        ['n3', 53],
        ['n2', null],
      ]);
      expect(await repo.sessions.countCheckpoints(randomUUID())).toBe(0);
    });
  });

  describe('reflections', () => {
    const add = (owner: string, content: string, tags: string[], createdAt: number, project: string | null = 'proj') =>
      repo.reflections.insert({ id: randomUUID(), owner, project, content, tags, createdAt }).then(() => undefined);

    it('ranks content matches above tag-only matches, and breaks equal ranks newest first, then by id', async () => {
      await add('r1', 'unrelated words about caching', ['jwt'], 1);
      await add('r1', 'verify every jwt with a key object', [], 2);
      await add('r1', 'twin text for jwt ties', [], 3);
      await add('r1', 'twin text for jwt ties', [], 4);
      const found = await repo.reflections.search({ owner: 'r1', words: ['jwt'], limit: 10 });
      expect(found).toHaveLength(4);
      // The tag-only match ranks last on both engines.
      expect(found[3]?.content).toBe('unrelated words about caching');
      const twins = found.filter((r) => r.content === 'twin text for jwt ties');
      expect(twins.map((r) => r.createdAt)).toEqual([4, 3]);
      expect(found.every((r, i) => i === 0 || (found[i - 1] as { score: number }).score >= r.score)).toBe(true);
    });

    it("sees only its owner's reflections, filters by project, and treats query syntax as plain words", async () => {
      await add('mine', 'postgres advisory locks serialise migrations', ['db'], 10, 'alpha');
      await add('mine', 'postgres pools need statement timeouts', ['db'], 11, 'beta');
      await add('theirs', 'postgres is also theirs', [], 12, 'alpha');
      expect((await repo.reflections.search({ owner: 'mine', words: ['postgres'], limit: 10 })).map((r) => r.owner)).toEqual(['mine', 'mine']);
      expect((await repo.reflections.search({ owner: 'mine', project: 'alpha', words: ['postgres'], limit: 10 })).map((r) => r.project)).toEqual(['alpha']);
      expect((await repo.reflections.search({ words: ['postgres'], limit: 10 })).length).toBe(3);
      for (const hostile of ['"', 'OR', 'NEAR(', '*', 'a:b', '!&|', "'; DROP TABLE reflections; --"]) {
        await expect(repo.reflections.search({ owner: 'mine', words: [hostile], limit: 5 })).resolves.toEqual(expect.any(Array));
      }
      expect((await repo.reflections.search({ owner: 'mine', words: ['postgres'], limit: 1 })).length).toBe(1);
    });

    it('counts by project and tag per owner, and deleting one takes its tags with it', async () => {
      const id = randomUUID();
      await repo.reflections.insert({ id, owner: 'stat', project: null, content: 'x', tags: ['a', 'b', 'a'], createdAt: 20 });
      await add('stat', 'y', ['b'], 21, 'p');
      expect(await repo.reflections.stats('stat', undefined)).toEqual({ total: 2, byProject: { '(none)': 1, p: 1 }, byTag: { a: 1, b: 2 } });
      expect(await repo.reflections.stats('stat', 'p')).toEqual({ total: 1, byProject: { p: 1 }, byTag: { b: 1 } });
      expect(await repo.reflections.find(id)).toMatchObject({ owner: 'stat', tags: ['a', 'b', 'a'], project: null });
      expect(await repo.reflections.delete(id)).toBe(true);
      expect(await repo.reflections.delete(id)).toBe(false);
      expect(await repo.reflections.find(id)).toBeUndefined();
      expect(await repo.reflections.stats('stat', undefined)).toEqual({ total: 1, byProject: { p: 1 }, byTag: { b: 1 } });
      expect(await repo.reflections.stats('nobody', undefined)).toEqual({ total: 0, byProject: {}, byTag: {} });
    });
  });

  describe('project messages', () => {
    it('stores a signature once (a replay is a no-op), keeps exact numbers, and lists newest first', async () => {
      const message = (signature: string, receivedAt: number, content: unknown) => ({
        id: randomUUID(),
        fromProject: 'mahavishnu',
        toProject: 'sb',
        content,
        sentAt: receivedAt - 1,
        receivedAt,
        receivedFrom: 'm',
        signature,
      });
      expect(await repo.messages.insert(message('sig-1', 100, parseExactJson('{"q": 85.0}')))).toBe(true);
      expect(await repo.messages.insert(message('sig-1', 101, 'again'))).toBe(false);
      expect(await repo.messages.insert(message('sig-2', 102, { n: 1 }))).toBe(true);
      const listed = await repo.messages.list('sb', 10);
      expect(listed.map((m) => m.signature)).toEqual(['sig-2', 'sig-1']);
      expect(listed[1]?.content).toEqual({ q: 85 });
      expect(await repo.messages.list('elsewhere', 10)).toEqual([]);
    });
  });

  describe('revocations', () => {
    it('widens a repeated revocation instead of narrowing it, and purges only what has expired', async () => {
      await repo.revocations.upsert({ kind: 'subject', value: 'sam', issuedBefore: 500, expiresAt: 2000, revokedAt: 400, revokedBy: 'admin' });
      await repo.revocations.upsert({ kind: 'subject', value: 'sam', issuedBefore: 300, expiresAt: 1500, revokedAt: 450, revokedBy: 'admin2' });
      await repo.revocations.upsert({ kind: 'token', value: 'jti-1', issuedBefore: null, expiresAt: 900, revokedAt: 400, revokedBy: 'admin' });
      const live = await repo.revocations.live(800);
      expect(live.find((r) => r.value === 'sam')).toMatchObject({ issuedBefore: 500, expiresAt: 2000, revokedBy: 'admin2' });
      expect(live.find((r) => r.value === 'jti-1')).toMatchObject({ kind: 'token', expiresAt: 900 });
      await repo.revocations.purge(1000);
      expect((await repo.revocations.live(0)).map((r) => r.value)).toEqual(['sam']);
    });
  });

  describe('migrations', () => {
    it('let three instances start at once on an empty database, each migration applied once', async () => {
      const versions = await Promise.all([engine, ...others].map(async (o) => (await o.health()).schemaVersion));
      expect(versions).toEqual([versions[0], versions[0], versions[0]]);
      expect(versions[0]).toBeGreaterThan(0);
      // The second instance sees the first one's writes: they share one database.
      const shared = repositories(others[0] as StorageEngine);
      const s = await open('shared', 'p', 1);
      expect(await shared.sessions.findOpen('shared', 'p')).toMatchObject({ id: s?.id });
    });
  });
});
