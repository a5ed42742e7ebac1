import type { SqliteDatabaseService } from '@crossauth/storage';
import type { AuthorizationCodeRecord, AuthorizationCodeRepository } from './authorization-code.repository';

type Row = {
  code_hash: string;
  client_id: string;
  username: string;
  redirect_uri: string;
  resource: string;
  scopes: string;
  code_challenge: string;
  created_at: number;
  expires_at: number;
  redeemed_at: number | null;
  grant_id: string | null;
};

const toRecord = (r: Row): AuthorizationCodeRecord => ({
  codeHash: r.code_hash,
  clientId: r.client_id,
  username: r.username,
  redirectUri: r.redirect_uri,
  resource: r.resource,
  scopes: JSON.parse(r.scopes) as string[],
  codeChallenge: r.code_challenge,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  redeemedAt: r.redeemed_at,
  grantId: r.grant_id,
});

/** {@link AuthorizationCodeRepository} on SQLite. */
export class SqliteAuthorizationCodeRepository implements AuthorizationCodeRepository {
  private readonly stmt;

  constructor(database: SqliteDatabaseService) {
    const db = database.db;
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO authorization_codes (code_hash, client_id, username, redirect_uri, resource, scopes, code_challenge, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      redeem: db.prepare(`UPDATE authorization_codes SET redeemed_at = ? WHERE code_hash = ? AND redeemed_at IS NULL`),
      find: db.prepare(`SELECT * FROM authorization_codes WHERE code_hash = ?`),
      expired: db.prepare(`DELETE FROM authorization_codes WHERE expires_at < ?`),
    };
  }

  async insert(c: AuthorizationCodeRecord): Promise<void> {
    this.stmt.insert.run(c.codeHash, c.clientId, c.username, c.redirectUri, c.resource, JSON.stringify(c.scopes), c.codeChallenge, c.createdAt, c.expiresAt);
  }

  async find(codeHash: string): Promise<AuthorizationCodeRecord | undefined> {
    const row = this.stmt.find.get(codeHash) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  async redeem(codeHash: string, at: number): Promise<void> {
    this.stmt.redeem.run(at, codeHash);
  }

  async deleteExpired(before: number): Promise<number> {
    return this.stmt.expired.run(before).changes;
  }
}
