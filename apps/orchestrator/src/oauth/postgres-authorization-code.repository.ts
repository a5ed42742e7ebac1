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
  grantId: r.grant_id,
});

/** {@link AuthorizationCodeRepository} on PostgreSQL. */
export class PostgresAuthorizationCodeRepository implements AuthorizationCodeRepository {
  constructor(private readonly db: PostgresDatabaseService) {}

  async insert(c: AuthorizationCodeRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO authorization_codes (code_hash, client_id, username, redirect_uri, resource, scopes, code_challenge, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [c.codeHash, c.clientId, c.username, c.redirectUri, c.resource, JSON.stringify(c.scopes), c.codeChallenge, c.createdAt, c.expiresAt],
    );
  }

  async find(codeHash: string): Promise<AuthorizationCodeRecord | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT * FROM authorization_codes WHERE code_hash = $1`, [codeHash]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async redeem(codeHash: string, at: number): Promise<void> {
    await this.db.query(`UPDATE authorization_codes SET redeemed_at = $1 WHERE code_hash = $2 AND redeemed_at IS NULL`, [at, codeHash]);
  }

  async deleteExpired(before: number): Promise<number> {
    return (await this.db.query(`DELETE FROM authorization_codes WHERE expires_at < $1`, [before])).rowCount;
  }
}
