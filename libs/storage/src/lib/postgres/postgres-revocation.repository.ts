import type { PostgresDatabaseService } from './postgres-database.service';
import { toRevocation, type RevocationRepository, type RevocationRow } from '../revocation.repository';

/** {@link RevocationRepository} on PostgreSQL. */
export class PostgresRevocationRepository implements RevocationRepository {
  constructor(private readonly db: PostgresDatabaseService) {}

  async upsert(r: RevocationRow): Promise<void> {
    await this.db.query(
      `INSERT INTO revocations (kind, value, issued_before, expires_at, revoked_at, revoked_by) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (kind, value) DO UPDATE SET issued_before = greatest(coalesce(revocations.issued_before, 0), coalesce(excluded.issued_before, 0)),
         expires_at = greatest(revocations.expires_at, excluded.expires_at), revoked_at = excluded.revoked_at, revoked_by = excluded.revoked_by`,
      [r.kind, r.value, r.issuedBefore, r.expiresAt, r.revokedAt, r.revokedBy],
    );
  }

  async live(nowSeconds: number): Promise<RevocationRow[]> {
    const { rows } = await this.db.query<Parameters<typeof toRevocation>[0]>(`SELECT * FROM revocations WHERE expires_at > $1`, [nowSeconds]);
    return rows.map(toRevocation);
  }

  async purge(nowSeconds: number): Promise<void> {
    await this.db.query(`DELETE FROM revocations WHERE expires_at <= $1`, [nowSeconds]);
  }
}
