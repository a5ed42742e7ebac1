import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { RevocationIndex, type Principal, type RevocationStore } from '@crossauth/auth';
import type Database from 'better-sqlite3';
import { DatabaseService } from '../storage/database.service';

type Row = { kind: 'token' | 'subject'; value: string; issued_before: number | null; expires_at: number };

/**
 * Revocations persisted in SQLite and mirrored in memory, so the request path
 * never touches the disk and a restart forgets nothing.
 */
@Injectable()
export class SqliteRevocationStore implements RevocationStore, OnModuleDestroy {
  private readonly logger = new Logger(SqliteRevocationStore.name);
  private readonly index = new RevocationIndex();
  private readonly upsert: Database.Statement;
  private readonly purgeRows: Database.Statement;
  private readonly purger: NodeJS.Timeout;

  constructor(database: DatabaseService) {
    const db = database.db;
    this.upsert = db.prepare(
      `INSERT INTO revocations (kind, value, issued_before, expires_at, revoked_at, revoked_by) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (kind, value) DO UPDATE SET issued_before = max(coalesce(issued_before, 0), coalesce(excluded.issued_before, 0)),
         expires_at = max(expires_at, excluded.expires_at), revoked_at = excluded.revoked_at, revoked_by = excluded.revoked_by`,
    );
    this.purgeRows = db.prepare(`DELETE FROM revocations WHERE expires_at <= ?`);
    const now = Math.floor(Date.now() / 1000);
    this.purgeRows.run(now);
    for (const row of db.prepare(`SELECT kind, value, issued_before, expires_at FROM revocations`).all() as Row[]) {
      if (row.kind === 'token') this.index.addToken(row.value, row.expires_at);
      else this.index.addSubject(row.value, row.issued_before ?? 0, row.expires_at);
    }
    this.logger.log({ event: 'revocations_loaded', ...this.index.size });
    this.purger = setInterval(() => this.purge(), 60_000);
    this.purger.unref();
  }

  isRevoked(principal: Principal): boolean {
    return this.index.isRevoked(principal);
  }

  /** Persists, then applies: once this returns, the token is refused here and after any restart. */
  revokeToken(jti: string, expiresAt: number, by: string): void {
    this.upsert.run('token', jti, null, expiresAt, Math.floor(Date.now() / 1000), by);
    this.index.addToken(jti, expiresAt);
  }

  revokeSubject(subject: string, issuedBefore: number, expiresAt: number, by: string): void {
    this.upsert.run('subject', subject, issuedBefore, expiresAt, Math.floor(Date.now() / 1000), by);
    this.index.addSubject(subject, issuedBefore, expiresAt);
  }

  get size(): { tokens: number; subjects: number } {
    return this.index.size;
  }

  onModuleDestroy(): void {
    clearInterval(this.purger);
  }

  private purge(): void {
    const now = Math.floor(Date.now() / 1000);
    this.purgeRows.run(now);
    this.index.purge(now);
  }
}
