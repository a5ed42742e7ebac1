import type { SqliteDatabaseService } from './sqlite-database.service';
import type { RevocationRepository, RevocationRow } from './revocation.repository';

type Row = { kind: 'token' | 'subject'; value: string; issued_before: number | null; expires_at: number; revoked_at: number; revoked_by: string };

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

export const toRevocation = (r: Row): RevocationRow => ({
  kind: r.kind,
  value: r.value,
  issuedBefore: r.issued_before,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  revokedBy: r.revoked_by,
});
