import type { SqliteDatabaseService } from '@crossauth/storage';
import type { RevocationDelivery, RevocationOutboxRepository } from './revocation-outbox.repository';

type Row = {
  id: string;
  target: string;
  tool: RevocationDelivery['tool'];
  args: string;
  subject: string;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  delivered_at: number | null;
};

const toDelivery = (r: Row): RevocationDelivery => ({
  id: r.id,
  target: r.target,
  tool: r.tool,
  args: JSON.parse(r.args) as Record<string, string>,
  subject: r.subject,
  createdAt: r.created_at,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  deliveredAt: r.delivered_at,
});

/** {@link RevocationOutboxRepository} on SQLite. */
export class SqliteRevocationOutboxRepository implements RevocationOutboxRepository {
  private readonly stmt;

  constructor(database: SqliteDatabaseService) {
    const db = database.db;
    this.stmt = {
      add: db.prepare(`INSERT INTO revocation_outbox (id, target, tool, args, subject, created_at, attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      due: db.prepare(`SELECT * FROM revocation_outbox WHERE delivered_at IS NULL AND next_attempt_at <= ? ORDER BY created_at LIMIT ?`),
      forSubject: db.prepare(`SELECT * FROM revocation_outbox WHERE subject = ? ORDER BY created_at DESC`),
      pending: db.prepare(`SELECT COUNT(*) AS n FROM revocation_outbox WHERE delivered_at IS NULL`),
      delivered: db.prepare(`UPDATE revocation_outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?`),
      failed: db.prepare(`UPDATE revocation_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ? AND delivered_at IS NULL`),
      prune: db.prepare(`DELETE FROM revocation_outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?`),
    };
  }

  async add(d: RevocationDelivery): Promise<void> {
    this.stmt.add.run(d.id, d.target, d.tool, JSON.stringify(d.args), d.subject, d.createdAt, d.attempts, d.nextAttemptAt);
  }

  async due(nowMs: number, limit: number): Promise<RevocationDelivery[]> {
    return (this.stmt.due.all(nowMs, limit) as Row[]).map(toDelivery);
  }

  async forSubject(subject: string): Promise<RevocationDelivery[]> {
    return (this.stmt.forSubject.all(subject) as Row[]).map(toDelivery);
  }

  async pendingCount(): Promise<number> {
    return (this.stmt.pending.get() as { n: number }).n;
  }

  async delivered(id: string, atMs: number): Promise<void> {
    this.stmt.delivered.run(atMs, id);
  }

  async failed(id: string, error: string, nextAttemptAt: number): Promise<void> {
    this.stmt.failed.run(error, nextAttemptAt, id);
  }

  async prune(beforeMs: number): Promise<void> {
    this.stmt.prune.run(beforeMs);
  }
}
