import type { PostgresDatabaseService } from '@crossauth/storage';
import type { AuthorizationCodeRecord, AuthorizationCodeRepository } from './authorization-code.repository';

type Row = {
  code_hash: string;
  client_id: string;
  username: string;
  redirect_uri: string;
  resource: string;
  scopes: string[];
  code_challenge: string;
  created_at: number | string;
  expires_at: number | string;
  redeemed_at: number | string | null;
  token_ids: string[] | null;
  grant_id: string | null;
};

const toRecord = (r: Row): AuthorizationCodeRecord => ({
  codeHash: r.code_hash,
  clientId: r.client_id,
  username: r.username,
  redirectUri: r.redirect_uri,
  resource: r.resource,
  scopes: r.scopes,
  codeChallenge: r.code_challenge,
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
  redeemedAt: r.redeemed_at === null ? null : Number(r.redeemed_at),
  tokenIds: r.token_ids,
  grantId: r.grant_id,
});

/** {@link AuthorizationCodeRepository} on PostgreSQL: one UPDATE decides which of two racing redemptions wins. */
export class PostgresAuthorizationCodeRepository implements AuthorizationCodeRepository {
  constructor(private readonly db: PostgresDatabaseService) {}

  async insert(c: AuthorizationCodeRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO authorization_codes (code_hash, client_id, username, redirect_uri, resource, scopes, code_challenge, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [c.codeHash, c.clientId, c.username, c.redirectUri, c.resource, JSON.stringify(c.scopes), c.codeChallenge, c.createdAt, c.expiresAt],
    );
  }

  async redeem(codeHash: string, at: number) {
    const { rows } = await this.db.query<Row>(`UPDATE authorization_codes SET redeemed_at = $1 WHERE code_hash = $2 AND redeemed_at IS NULL RETURNING *`, [
      at,
      codeHash,
    ]);
    if (rows[0]) return { redeemed: toRecord(rows[0]) };
    const earlier = await this.db.query<Row>(`SELECT * FROM authorization_codes WHERE code_hash = $1`, [codeHash]);
    return earlier.rows[0] ? { replayed: toRecord(earlier.rows[0]) } : undefined;
  }

  async recordTokens(codeHash: string, tokenIds: readonly string[], grantId: string | null): Promise<void> {
    await this.db.query(`UPDATE authorization_codes SET token_ids = $1, grant_id = $3 WHERE code_hash = $2`, [JSON.stringify(tokenIds), codeHash, grantId]);
  }

  async deleteExpired(before: number): Promise<number> {
    return (await this.db.query(`DELETE FROM authorization_codes WHERE expires_at < $1`, [before])).rowCount;
  }
}
