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
  token_ids: string | null;
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
  tokenIds: r.token_ids === null ? null : (JSON.parse(r.token_ids) as string[]),
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
      redeem: db.prepare(`UPDATE authorization_codes SET redeemed_at = ? WHERE code_hash = ? AND redeemed_at IS NULL RETURNING *`),
      find: db.prepare(`SELECT * FROM authorization_codes WHERE code_hash = ?`),
      tokens: db.prepare(`UPDATE authorization_codes SET token_ids = ?, grant_id = ? WHERE code_hash = ?`),
      expired: db.prepare(`DELETE FROM authorization_codes WHERE expires_at < ?`),
    };
  }

  async insert(c: AuthorizationCodeRecord): Promise<void> {
    this.stmt.insert.run(c.codeHash, c.clientId, c.username, c.redirectUri, c.resource, JSON.stringify(c.scopes), c.codeChallenge, c.createdAt, c.expiresAt);
  }

  async redeem(codeHash: string, at: number) {
    const redeemed = this.stmt.redeem.get(at, codeHash) as Row | undefined;
    if (redeemed) return { redeemed: toRecord(redeemed) };
    const earlier = this.stmt.find.get(codeHash) as Row | undefined;
    return earlier ? { replayed: toRecord(earlier) } : undefined;
  }

  async recordTokens(codeHash: string, tokenIds: readonly string[], grantId: string | null): Promise<void> {
    this.stmt.tokens.run(JSON.stringify(tokenIds), grantId, codeHash);
  }

  async deleteExpired(before: number): Promise<number> {
    return this.stmt.expired.run(before).changes;
  }
}
