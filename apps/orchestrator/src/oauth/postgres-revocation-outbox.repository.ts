import type { PostgresDatabaseService } from '@crossauth/storage';
import type { RevocationDelivery, RevocationOutboxRepository } from './revocation-outbox.repository';

type Row = {
  id: string;
  target: string;
  tool: RevocationDelivery['tool'];
  args: Record<string, string>;
  subject: string;
  created_at: number | string;
  attempts: number;
  next_attempt_at: number | string;
  last_error: string | null;
  delivered_at: number | string | null;
};

const toDelivery = (r: Row): RevocationDelivery => ({
  id: r.id,
  target: r.target,
  tool: r.tool,
  args: r.args,
  subject: r.subject,
  createdAt: Number(r.created_at),
  attempts: r.attempts,
  nextAttemptAt: Number(r.next_attempt_at),
  lastError: r.last_error,
  deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at),
});

/** {@link RevocationOutboxRepository} on PostgreSQL. */
export class PostgresRevocationOutboxRepository implements RevocationOutboxRepository {
  constructor(private readonly db: PostgresDatabaseService) {}

  async add(d: RevocationDelivery): Promise<void> {
    await this.db.query(
      `INSERT INTO revocation_outbox (id, target, tool, args, subject, created_at, attempts, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [d.id, d.target, d.tool, JSON.stringify(d.args), d.subject, d.createdAt, d.attempts, d.nextAttemptAt],
    );
  }

  async due(nowMs: number, limit: number): Promise<RevocationDelivery[]> {
    const { rows } = await this.db.query<Row>(
      `SELECT * FROM revocation_outbox WHERE delivered_at IS NULL AND next_attempt_at <= $1 ORDER BY created_at LIMIT $2`,
      [nowMs, limit],
    );
    return rows.map(toDelivery);
  }

  async forSubject(subject: string): Promise<RevocationDelivery[]> {
    const { rows } = await this.db.query<Row>(`SELECT * FROM revocation_outbox WHERE subject = $1 ORDER BY created_at DESC`, [subject]);
    return rows.map(toDelivery);
  }

  async pendingCount(): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(`SELECT COUNT(*) AS n FROM revocation_outbox WHERE delivered_at IS NULL`);
    return Number(rows[0]?.n ?? 0);
  }

  async delivered(id: string, atMs: number): Promise<void> {
    await this.db.query(`UPDATE revocation_outbox SET delivered_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2`, [atMs, id]);
  }

  async failed(id: string, error: string, nextAttemptAt: number): Promise<void> {
    await this.db.query(`UPDATE revocation_outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3 AND delivered_at IS NULL`, [
      error,
      nextAttemptAt,
      id,
    ]);
  }

  async prune(beforeMs: number): Promise<void> {
    await this.db.query(`DELETE FROM revocation_outbox WHERE delivered_at IS NOT NULL AND delivered_at < $1`, [beforeMs]);
  }
}
