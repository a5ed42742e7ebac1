import type { PostgresDatabaseService } from '@crossauth/storage';
import type { ReflectionRecord, ReflectionRepository, ReflectionSearch, ReflectionStats } from './reflection.repository';

type Row = { id: string; owner: string; project: string | null; content: string; tags: string[]; created_at: number };
const toRecord = (r: Row): ReflectionRecord => ({ id: r.id, owner: r.owner, project: r.project, content: r.content, tags: r.tags, createdAt: r.created_at });

/** {@link ReflectionRepository} on PostgreSQL, searched with its own full-text search (a GIN-indexed tsvector). */
export class PostgresReflectionRepository implements ReflectionRepository {
  constructor(private readonly db: PostgresDatabaseService) {}

  async insert(r: ReflectionRecord): Promise<void> {
    // One statement, so one transaction: the row and its tags, or neither.
    await this.db.query(
      `WITH inserted AS (
         INSERT INTO reflections (id, owner, project, content, tags, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
       )
       INSERT INTO reflection_tags (reflection_id, tag) SELECT inserted.id, t FROM inserted, unnest($7::text[]) AS t ON CONFLICT DO NOTHING`,
      [r.id, r.owner, r.project, r.content, JSON.stringify(r.tags), r.createdAt, [...new Set(r.tags)]],
    );
  }

  async search(q: ReflectionSearch): Promise<Array<ReflectionRecord & { score: number }>> {
    const params: unknown[] = [];
    const p = (value: unknown) => `$${params.push(value)}`;
    // Each word through plainto_tsquery: caller text is never parsed as query syntax. Words are OR-ed.
    const query = q.words.map((w) => `plainto_tsquery('english', ${p(w)})`).join(' || ');
    const where = ['r.search @@ q.query'];
    if (q.owner !== undefined) where.push(`r.owner = ${p(q.owner)}`);
    if (q.project !== undefined) where.push(`r.project = ${p(q.project)}`);
    const { rows } = await this.db.query<Row & { rank: number }>(
      `SELECT r.id, r.owner, r.project, r.content, r.tags, r.created_at, ts_rank(r.search, q.query) AS rank
       FROM reflections r, (SELECT ${query} AS query) q
       WHERE ${where.join(' AND ')} ORDER BY rank DESC, r.created_at DESC, r.id LIMIT ${p(q.limit)}`,
      params,
    );
    return rows.map((r) => ({ ...toRecord(r), score: Math.round(r.rank * 1000) / 1000 }));
  }

  async stats(owner: string | undefined, project: string | undefined): Promise<ReflectionStats> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (owner !== undefined) where.push(`r.owner = $${params.push(owner)}`);
    if (project !== undefined) where.push(`r.project = $${params.push(project)}`);
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    // Three aggregates in one round trip.
    const { rows } = await this.db.query<{ total: number; by_project: Record<string, number> | null; by_tag: Record<string, number> | null }>(
      `SELECT
         (SELECT count(*) FROM reflections r ${clause}) AS total,
         (SELECT jsonb_object_agg(k, n) FROM (SELECT coalesce(r.project, '(none)') AS k, count(*)::int AS n FROM reflections r ${clause} GROUP BY 1) p) AS by_project,
         (SELECT jsonb_object_agg(k, n) FROM (SELECT t.tag AS k, count(*)::int AS n FROM reflection_tags t JOIN reflections r ON r.id = t.reflection_id ${clause} GROUP BY 1) g) AS by_tag`,
      params,
    );
    const row = rows[0];
    return { total: row?.total ?? 0, byProject: sortKeys(row?.by_project ?? {}), byTag: sortKeys(row?.by_tag ?? {}) };
  }

  async find(id: string): Promise<ReflectionRecord | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT id, owner, project, content, tags, created_at FROM reflections WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async delete(id: string): Promise<boolean> {
    return (await this.db.query(`DELETE FROM reflections WHERE id = $1`, [id])).rowCount > 0;
  }
}

// Same key order as SQLite's ORDER BY (bytewise), whatever the database collation.
function sortKeys(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
