import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { SqliteDatabaseService } from './sqlite-database.service';

describe('group commit on SQLite', () => {
  let database: SqliteDatabaseService;
  beforeAll(async () => {
    database = await SqliteDatabaseService.open(mkdtempSync(`${tmpdir()}/group-commit-`), 'spec', ['CREATE TABLE t (k TEXT PRIMARY KEY)']);
  });
  afterAll(() => database.db.close());
  const insert = (k: string) => database.grouped.run(() => database.db.prepare('INSERT INTO t (k) VALUES (?)').run(k).changes);
  const count = () => (database.db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;

  it('holds the writes of one turn until the turn ends, then settles each after they are committed', async () => {
    const commits: number[] = [];
    const before = count();
    const writes = Array.from({ length: 20 }, (_v, i) => insert(`a${i}`).then(() => commits.push(count())));
    // Nothing is written until the turn ends.
    expect(count()).toBe(before);
    await Promise.all(writes);
    // Every caller, when told, finds all twenty committed.
    expect(commits).toEqual(Array(20).fill(before + 20));
  });

  it('rolls back only the write that throws, and rejects only its caller', async () => {
    const outcomes = await Promise.allSettled([insert('b1'), insert('b1'), insert('b2')]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    expect(database.db.prepare("SELECT k FROM t WHERE k IN ('b1', 'b2') ORDER BY k").all()).toEqual([{ k: 'b1' }, { k: 'b2' }]);
  });

  it('keeps the order of writes within a batch', async () => {
    const seen: string[] = [];
    await Promise.all(['c1', 'c2', 'c3'].map((k) => database.grouped.run(() => seen.push(k))));
    expect(seen).toEqual(['c1', 'c2', 'c3']);
  });
});
