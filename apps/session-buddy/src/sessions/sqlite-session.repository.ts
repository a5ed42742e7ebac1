import type Database from 'better-sqlite3';
import type { SqliteDatabaseService } from '@crossauth/storage';
import { toCheckpoint, toSession, type CheckpointRow, type SessionRow } from './session-row';
import type { CheckpointRecord, SessionListFilter, SessionRecord, SessionRepository } from './session.repository';

/** {@link SessionRepository} on SQLite (better-sqlite3: synchronous, so each call is atomic). */
export class SqliteSessionRepository implements SessionRepository {
  private readonly db: Database.Database;
  private readonly stmt;

  constructor(database: SqliteDatabaseService) {
    this.db = database.db;
    this.stmt = {
      insert: this.db.prepare(
        `INSERT INTO sessions (id, owner, project, working_directory, status, started_at, start_event_id)
         VALUES (@id, @owner, @project, @workingDirectory, 'open', @startedAt, @startEventId)
         ON CONFLICT DO NOTHING RETURNING *`,
      ),
      findOpen: this.db.prepare(`SELECT * FROM sessions WHERE owner = ? AND project = ? AND status = 'open'`),
      addCheckpoint: this.db.prepare(`INSERT INTO checkpoints (session_id, created_at, notes, quality_score, files) VALUES (?, ?, ?, ?, ?) RETURNING *`),
      close: this.db.prepare(`UPDATE sessions SET status = 'closed', ended_at = ?, summary = ?, end_event_id = ? WHERE id = ? AND status = 'open' RETURNING *`),
      checkpoints: this.db.prepare(`SELECT * FROM checkpoints WHERE session_id = ? ORDER BY id DESC LIMIT ?`),
      countCheckpoints: this.db.prepare(`SELECT count(*) AS n FROM checkpoints WHERE session_id = ?`),
      byStartEvent: this.db.prepare(`SELECT * FROM sessions WHERE start_event_id = ?`),
      byEndEvent: this.db.prepare(`SELECT * FROM sessions WHERE end_event_id = ?`),
    };
  }

  async insertOpen(s: Omit<SessionRecord, 'status' | 'endedAt' | 'summary' | 'endEventId'>): Promise<SessionRecord | undefined> {
    const row = this.stmt.insert.get(s) as SessionRow | undefined;
    return row ? toSession(row) : undefined;
  }

  async findOpen(owner: string, project: string): Promise<SessionRecord | undefined> {
    const row = this.stmt.findOpen.get(owner, project) as SessionRow | undefined;
    return row ? toSession(row) : undefined;
  }

  async addCheckpointToOpen(
    owner: string,
    project: string,
    c: Omit<CheckpointRecord, 'id' | 'sessionId'>,
  ): Promise<{ checkpoint: CheckpointRecord; total: number } | undefined> {
    return this.db.transaction(() => {
      const open = this.stmt.findOpen.get(owner, project) as SessionRow | undefined;
      if (!open) return undefined;
      const checkpoint = toCheckpoint(this.stmt.addCheckpoint.get(open.id, c.createdAt, c.notes, c.qualityScore, JSON.stringify(c.files)) as CheckpointRow);
      return { checkpoint, total: (this.stmt.countCheckpoints.get(open.id) as { n: number }).n };
    })();
  }

  async close(id: string, endedAt: number, summary: string | null, endEventId?: string): Promise<SessionRecord | undefined> {
    const row = this.stmt.close.get(endedAt, summary, endEventId ?? null, id) as SessionRow | undefined;
    return row ? toSession(row) : undefined;
  }

  async checkpoints(sessionId: string, limit: number): Promise<CheckpointRecord[]> {
    return (this.stmt.checkpoints.all(sessionId, limit) as CheckpointRow[]).map(toCheckpoint);
  }

  async countCheckpoints(sessionId: string): Promise<number> {
    return (this.stmt.countCheckpoints.get(sessionId) as { n: number }).n;
  }

  async list(f: SessionListFilter): Promise<SessionRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, ...values: unknown[]) => {
      where.push(sql);
      params.push(...values);
    };
    if (f.owner !== undefined) add('owner = ?', f.owner);
    if (f.project !== undefined) add('project = ?', f.project);
    if (f.status !== undefined) add('status = ?', f.status);
    if (f.since !== undefined) add('started_at >= ?', f.since);
    if (f.until !== undefined) add('started_at < ?', f.until);
    if (f.before) add('(started_at < ? OR (started_at = ? AND id < ?))', f.before.startedAt, f.before.startedAt, f.before.id);
    const sql = `SELECT * FROM sessions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params, f.limit) as SessionRow[]).map(toSession);
  }

  async findByEvent(eventId: string): Promise<{ session: SessionRecord; kind: 'start' | 'end' } | undefined> {
    const start = this.stmt.byStartEvent.get(eventId) as SessionRow | undefined;
    if (start) return { session: toSession(start), kind: 'start' };
    const end = this.stmt.byEndEvent.get(eventId) as SessionRow | undefined;
    return end ? { session: toSession(end), kind: 'end' } : undefined;
  }
}
