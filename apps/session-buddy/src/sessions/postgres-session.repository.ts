import type { PostgresDatabaseService } from '@crossauth/storage';
import { toCheckpoint, toSession, type CheckpointRow, type SessionRow } from './session-row';
import type { CheckpointRecord, SessionListFilter, SessionRecord, SessionRepository } from './session.repository';

/** {@link SessionRepository} on PostgreSQL: each method is one statement, so one transaction. */
export class PostgresSessionRepository implements SessionRepository {
  constructor(private readonly db: PostgresDatabaseService) {}

  async insertOpen(s: Omit<SessionRecord, 'status' | 'endedAt' | 'summary' | 'endEventId'>): Promise<SessionRecord | undefined> {
    const { rows } = await this.db.query<SessionRow>(
      `INSERT INTO sessions (id, owner, project, working_directory, status, started_at, start_event_id)
       VALUES ($1, $2, $3, $4, 'open', $5, $6) ON CONFLICT DO NOTHING RETURNING *`,
      [s.id, s.owner, s.project, s.workingDirectory, s.startedAt, s.startEventId],
    );
    return rows[0] ? toSession(rows[0]) : undefined;
  }

  async findOpen(owner: string, project: string): Promise<SessionRecord | undefined> {
    const { rows } = await this.db.query<SessionRow>(`SELECT * FROM sessions WHERE owner = $1 AND project = $2 AND status = 'open'`, [owner, project]);
    return rows[0] ? toSession(rows[0]) : undefined;
  }

  async addCheckpointToOpen(
    owner: string,
    project: string,
    c: Omit<CheckpointRecord, 'id' | 'sessionId'>,
  ): Promise<{ checkpoint: CheckpointRecord; total: number } | undefined> {
    // One statement, one round trip. The count's snapshot predates the insert, hence + 1.
    const { rows } = await this.db.query<CheckpointRow & { total: number }>(
      `WITH open AS (SELECT id FROM sessions WHERE owner = $1 AND project = $2 AND status = 'open'),
       added AS (
         INSERT INTO checkpoints (session_id, created_at, notes, quality_score, files) SELECT open.id, $3, $4, $5, $6 FROM open RETURNING *
       )
       SELECT added.*, (SELECT count(*) FROM checkpoints c WHERE c.session_id = added.session_id) + 1 AS total FROM added`,
      [owner, project, c.createdAt, c.notes, c.qualityScore, JSON.stringify(c.files)],
    );
    const row = rows[0];
    return row ? { checkpoint: toCheckpoint(row), total: row.total } : undefined;
  }

  async close(id: string, endedAt: number, summary: string | null, endEventId?: string): Promise<SessionRecord | undefined> {
    const { rows } = await this.db.query<SessionRow>(
      `UPDATE sessions SET status = 'closed', ended_at = $1, summary = $2, end_event_id = $3 WHERE id = $4 AND status = 'open' RETURNING *`,
      [endedAt, summary, endEventId ?? null, id],
    );
    return rows[0] ? toSession(rows[0]) : undefined;
  }

  async checkpoints(sessionId: string, limit: number): Promise<CheckpointRecord[]> {
    const { rows } = await this.db.query<CheckpointRow>(`SELECT * FROM checkpoints WHERE session_id = $1 ORDER BY id DESC LIMIT $2`, [sessionId, limit]);
    return rows.map(toCheckpoint);
  }

  async countCheckpoints(sessionId: string): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(`SELECT count(*) AS n FROM checkpoints WHERE session_id = $1`, [sessionId]);
    return rows[0]?.n ?? 0;
  }

  async list(f: SessionListFilter): Promise<SessionRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (p: (value: unknown) => string) => string) => where.push(sql((value) => `$${params.push(value)}`));
    if (f.owner !== undefined) add((p) => `owner = ${p(f.owner)}`);
    if (f.project !== undefined) add((p) => `project = ${p(f.project)}`);
    if (f.status !== undefined) add((p) => `status = ${p(f.status)}`);
    if (f.since !== undefined) add((p) => `started_at >= ${p(f.since)}`);
    if (f.until !== undefined) add((p) => `started_at < ${p(f.until)}`);
    // Row comparison walks the (started_at DESC, id DESC) index from the cursor on.
    if (f.before) add((p) => `(started_at, id) < (${p(f.before?.startedAt)}, ${p(f.before?.id)})`);
    const limit = `$${params.push(f.limit)}`;
    const { rows } = await this.db.query<SessionRow>(
      `SELECT * FROM sessions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id DESC LIMIT ${limit}`,
      params,
    );
    return rows.map(toSession);
  }

  async findByEvent(eventId: string): Promise<{ session: SessionRecord; kind: 'start' | 'end' } | undefined> {
    const { rows } = await this.db.query<SessionRow & { kind: 'start' | 'end' }>(
      `SELECT *, CASE WHEN start_event_id = $1 THEN 'start' ELSE 'end' END AS kind FROM sessions WHERE start_event_id = $1 OR end_event_id = $1 LIMIT 1`,
      [eventId],
    );
    const row = rows[0];
    return row ? { session: toSession(row), kind: row.kind } : undefined;
  }
}
