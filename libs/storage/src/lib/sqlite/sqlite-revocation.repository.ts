import type { SqliteDatabaseService } from './sqlite-database.service';
import { toRevocation, type RevocationRepository, type RevocationRow, type RevocationTableRow as Row } from '../revocation.repository';

/** {@link RevocationRepository} on SQLite. */
export class SqliteRevocationRepository implements RevocationRepository {
  private readonly upsertRow;
  private readonly liveRows;
  private readonly purgeRows;

  constructor(database: SqliteDatabaseService) {
    this.upsertRow = database.db.prepare(
      `INSERT INTO revocations (kind, value, issued_before, expires_at, revoked_at, revoked_by) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (kind, value) DO UPDATE SET issued_before = max(coalesce(issued_before, 0), coalesce(excluded.issued_before, 0)),
         expires_at = max(expires_at, excluded.expires_at), revoked_at = excluded.revoked_at, revoked_by = excluded.revoked_by`,
    );
    this.liveRows = database.db.prepare(`SELECT * FROM revocations WHERE expires_at > ?`);
    this.purgeRows = database.db.prepare(`DELETE FROM revocations WHERE expires_at <= ?`);
  }

  async upsert(r: RevocationRow): Promise<void> {
    this.upsertRow.run(r.kind, r.value, r.issuedBefore, r.expiresAt, r.revokedAt, r.revokedBy);
  }

  async live(nowSeconds: number): Promise<RevocationRow[]> {
    return (this.liveRows.all(nowSeconds) as Row[]).map(toRevocation);
  }

  async purge(nowSeconds: number): Promise<void> {
    this.purgeRows.run(nowSeconds);
  }
}
