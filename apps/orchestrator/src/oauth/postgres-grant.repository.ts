import type { PoolClient } from 'pg';
import type { PostgresDatabaseService } from '@crossauth/storage';
import type { ConsentRecord, GrantRecord, GrantRepository, GrantSelector, RefreshTokenRecord } from './grant.repository';

type Ms = number | string;
type GrantRow = {
  id: string;
  username: string;
  client_id: string;
  resource: string;
  scopes: string[];
  created_at: Ms;
  last_used_at: Ms;
  expires_at: Ms;
  revoked_at: Ms | null;
  revoked_reason: string | null;
};
type TokenRow = {
  token_hash: string;
  grant_id: string;
  parent_hash: string | null;
  created_at: Ms;
  expires_at: Ms;
  used_at: Ms | null;
  superseded_at: Ms | null;
  access_token_id: string;
};
type ConsentRow = { username: string; client_id: string; resource: string; scopes: string[]; granted_at: Ms };

const ms = (v: Ms | null): number | null => (v === null ? null : Number(v));
const toGrant = (r: GrantRow): GrantRecord => ({
  id: r.id,
  username: r.username,
  clientId: r.client_id,
  resource: r.resource,
  scopes: r.scopes,
  createdAt: Number(r.created_at),
  lastUsedAt: Number(r.last_used_at),
  expiresAt: Number(r.expires_at),
  revokedAt: ms(r.revoked_at),
  revokedReason: r.revoked_reason,
});
const toToken = (r: TokenRow): RefreshTokenRecord => ({
  tokenHash: r.token_hash,
  grantId: r.grant_id,
  parentHash: r.parent_hash,
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
  usedAt: ms(r.used_at),
  supersededAt: ms(r.superseded_at),
  accessTokenId: r.access_token_id,
});

function insertToken(tx: PoolClient, t: RefreshTokenRecord): Promise<unknown> {
  return tx.query(`INSERT INTO refresh_tokens (token_hash, grant_id, parent_hash, created_at, expires_at, access_token_id) VALUES ($1, $2, $3, $4, $5, $6)`, [
    t.tokenHash,
    t.grantId,
    t.parentHash,
    t.createdAt,
    t.expiresAt,
    t.accessTokenId,
  ]);
}

const column = (s: GrantSelector): [string, string] => ('id' in s ? ['id', s.id] : 'username' in s ? ['username', s.username] : ['client_id', s.clientId]);

/** {@link GrantRepository} on PostgreSQL: single UPDATEs decide which of two racing refreshes used a token first. */
export class PostgresGrantRepository implements GrantRepository {
  constructor(private readonly db: PostgresDatabaseService) {}

  async start(g: GrantRecord, t: RefreshTokenRecord, codeHash: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const spent = await tx.query(`UPDATE authorization_codes SET redeemed_at = $1, grant_id = $2 WHERE code_hash = $3 AND redeemed_at IS NULL`, [
        g.createdAt,
        g.id,
        codeHash,
      ]);
      if (spent.rowCount !== 1) return false;
      await tx.query(
        `INSERT INTO grants (id, username, client_id, resource, scopes, created_at, last_used_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [g.id, g.username, g.clientId, g.resource, JSON.stringify(g.scopes), g.createdAt, g.lastUsedAt, g.expiresAt],
      );
      await insertToken(tx, t);
      return true;
    });
  }

  async findToken(tokenHash: string) {
    const { rows } = await this.db.query<TokenRow & { g: GrantRow }>(
      `SELECT t.*, row_to_json(g) AS g FROM refresh_tokens t JOIN grants g ON g.id = t.grant_id WHERE t.token_hash = $1`,
      [tokenHash],
    );
    const row = rows[0];
    return row ? { token: toToken(row), grant: toGrant(row.g) } : undefined;
  }

  async rotate(parent: RefreshTokenRecord, child: RefreshTokenRecord, at: number): Promise<'first' | 'parallel' | 'reuse'> {
    return this.db.transaction(async (tx) => {
      // The row lock orders racing rotations of one token: each sees what the one before it wrote.
      const { rows } = await tx.query<{ used_at: Ms | null; superseded_at: Ms | null }>(
        `SELECT used_at, superseded_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
        [parent.tokenHash],
      );
      const row = rows[0];
      if (!row || row.superseded_at !== null) return 'reuse';
      const use = row.used_at === null ? 'first' : 'parallel';
      // Every write in one statement (one round trip): on a first use the token is spent and, by index (the
      // primary key, parent_hash), its parent and unused siblings superseded; then the replacement and the grant's use.
      await tx.query(
        `WITH spent AS (UPDATE refresh_tokens SET used_at = $1 WHERE $2::boolean AND token_hash = $3),
              superseded AS (UPDATE refresh_tokens SET superseded_at = $1
                WHERE $2::boolean AND $4::text IS NOT NULL AND superseded_at IS NULL AND (token_hash = $4 OR (parent_hash = $4 AND token_hash <> $3 AND used_at IS NULL))),
              replacement AS (INSERT INTO refresh_tokens (token_hash, grant_id, parent_hash, created_at, expires_at, access_token_id) VALUES ($5, $6, $3, $7, $8, $9))
         UPDATE grants SET last_used_at = $1 WHERE id = $6`,
        [at, use === 'first', parent.tokenHash, parent.parentHash, child.tokenHash, child.grantId, child.createdAt, child.expiresAt, child.accessTokenId],
      );
      return use;
    });
  }

  async list(selector: GrantSelector | undefined, now: number): Promise<GrantRecord[]> {
    const [name, value] = selector ? column(selector) : ['1', 1];
    const { rows } = await this.db.query<GrantRow>(
      `SELECT * FROM grants WHERE ${name} = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC`,
      [value, now],
    );
    return rows.map(toGrant);
  }

  async revoke(selector: GrantSelector, at: number, reason: string): Promise<GrantRecord[]> {
    const [name, value] = column(selector);
    const { rows } = await this.db.query<GrantRow>(
      `UPDATE grants SET revoked_at = $1, revoked_reason = $2 WHERE ${name} = $3 AND revoked_at IS NULL RETURNING *`,
      [at, reason, value],
    );
    return rows.map(toGrant);
  }

  async accessTokensSince(grantId: string, since: number): Promise<string[]> {
    const { rows } = await this.db.query<{ access_token_id: string }>(`SELECT access_token_id FROM refresh_tokens WHERE grant_id = $1 AND created_at >= $2`, [
      grantId,
      since,
    ]);
    return rows.map((r) => r.access_token_id);
  }

  async consentOf(username: string, clientId: string, resource: string): Promise<ConsentRecord | undefined> {
    const { rows } = await this.db.query<ConsentRow>(`SELECT * FROM consents WHERE username = $1 AND client_id = $2 AND resource = $3`, [
      username,
      clientId,
      resource,
    ]);
    const r = rows[0];
    return r ? { username: r.username, clientId: r.client_id, resource: r.resource, scopes: r.scopes, grantedAt: Number(r.granted_at) } : undefined;
  }

  async rememberConsent(c: ConsentRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO consents (username, client_id, resource, scopes, granted_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (username, client_id, resource) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at`,
      [c.username, c.clientId, c.resource, JSON.stringify(c.scopes), c.grantedAt],
    );
  }

  async forgetConsents(username: string, clientId?: string): Promise<number> {
    const { rowCount } =
      clientId === undefined
        ? await this.db.query(`DELETE FROM consents WHERE username = $1`, [username])
        : await this.db.query(`DELETE FROM consents WHERE username = $1 AND client_id = $2`, [username, clientId]);
    return rowCount;
  }

  async deleteEnded(before: number): Promise<number> {
    await this.db.query(`DELETE FROM refresh_tokens WHERE grant_id IN (SELECT id FROM grants WHERE expires_at < $1 OR revoked_at < $1)`, [before]);
    return (await this.db.query(`DELETE FROM grants WHERE expires_at < $1 OR revoked_at < $1`, [before])).rowCount;
  }
}
