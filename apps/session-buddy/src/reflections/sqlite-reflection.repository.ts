import type Database from 'better-sqlite3';
import type { SqliteDatabaseService } from '@crossauth/storage';
import type { ReflectionRecord, ReflectionRepository, ReflectionSearch, ReflectionStats } from './reflection.repository';

type Row = { id: string; owner: string; project: string | null; content: string; tags: string; created_at: number };
const toRecord = (r: Row): ReflectionRecord => ({
  id: r.id,
  owner: r.owner,
  project: r.project,
  content: r.content,
  tags: JSON.parse(r.tags) as string[],
  createdAt: r.created_at,
});

/** {@link ReflectionRepository} on SQLite with an FTS5 index ranked by bm25. */
export class SqliteReflectionRepository implements ReflectionRepository {
  private readonly db: Database.Database;
  private readonly insertRow;
  private readonly insertTag;
  private readonly findRow;
  private readonly deleteRow;

  constructor(database: SqliteDatabaseService) {
    this.db = database.db;
    this.insertRow = this.db.prepare(`INSERT INTO reflections (id, owner, project, content, tags, created_at) VALUES (?, ?, ?, ?, ?, ?)`);
    this.insertTag = this.db.prepare(`INSERT OR IGNORE INTO reflection_tags (reflection_id, tag) VALUES (?, ?)`);
    this.findRow = this.db.prepare(`SELECT * FROM reflections WHERE id = ?`);
    this.deleteRow = this.db.prepare(`DELETE FROM reflections WHERE id = ?`);
  }

  async insert(r: ReflectionRecord): Promise<void> {
    this.db.transaction(() => {
      this.insertRow.run(r.id, r.owner, r.project, r.content, JSON.stringify(r.tags), r.createdAt);
      for (const tag of r.tags) this.insertTag.run(r.id, tag);
    })();
  }

  async search(q: ReflectionSearch): Promise<Array<ReflectionRecord & { score: number }>> {
    // Each word becomes a quoted FTS5 string, so caller text is never parsed as query syntax.
    const match = q.words.map((w) => `"${w.replace(/"/g, '""')}"`).join(' OR ');
    const where = ['reflections_fts MATCH ?'];
    const params: unknown[] = [match];
    if (q.owner !== undefined) {
      where.push('r.owner = ?');
      params.push(q.owner);
    }
    if (q.project !== undefined) {
      where.push('r.project = ?');
      params.push(q.project);
    }
    const rows = this.db
      .prepare(
        `SELECT r.*, bm25(reflections_fts, 1.0, 0.5) AS rank FROM reflections_fts JOIN reflections r ON r.rowid = reflections_fts.rowid
         WHERE ${where.join(' AND ')} ORDER BY rank, r.created_at DESC, r.id LIMIT ?`,
      )
      .all(...params, q.limit) as Array<Row & { rank: number }>;
    // bm25 is lower-is-better; expose higher-is-better.
    return rows.map((r) => ({ ...toRecord(r), score: Math.round(-r.rank * 1000) / 1000 }));
  }

  async stats(owner: string | undefined, project: string | undefined): Promise<ReflectionStats> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (owner !== undefined) {
      where.push('r.owner = ?');
      params.push(owner);
    }
    if (project !== undefined) {
      where.push('r.project = ?');
      params.push(project);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT count(*) AS n FROM reflections r ${clause}`).get(...params) as { n: number }).n;
    const byProject = this.db
      .prepare(`SELECT coalesce(r.project, '(none)') AS k, count(*) AS n FROM reflections r ${clause} GROUP BY k ORDER BY k`)
      .all(...params) as Array<{ k: string; n: number }>;
    const byTag = this.db
      .prepare(`SELECT t.tag AS k, count(*) AS n FROM reflection_tags t JOIN reflections r ON r.id = t.reflection_id ${clause} GROUP BY k ORDER BY k`)
      .all(...params) as Array<{ k: string; n: number }>;
    return {
      total,
      byProject: Object.fromEntries(byProject.map((r) => [r.k, r.n])),
      byTag: Object.fromEntries(byTag.map((r) => [r.k, r.n])),
    };
  }

  async find(id: string): Promise<ReflectionRecord | undefined> {
    const row = this.findRow.get(id) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  async delete(id: string): Promise<boolean> {
    return this.deleteRow.run(id).changes > 0;
  }
}
