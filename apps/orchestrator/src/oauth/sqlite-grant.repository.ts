import type { Statement } from 'better-sqlite3';
import type { SqliteDatabaseService } from '@crossauth/storage';
import type { ConsentRecord, GrantRecord, GrantRepository, GrantSelector, RefreshTokenRecord } from './grant.repository';

type GrantRow = {
  id: string;
  username: string;
  client_id: string;
  resource: string;
  scopes: string;
  created_at: number;
  last_used_at: number;
  expires_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
};
type TokenRow = {
  token_hash: string;
  grant_id: string;
  parent_hash: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  superseded_at: number | null;
  access_token_id: string;
};
type ConsentRow = { username: string; client_id: string; resource: string; scopes: string; granted_at: number };

const toGrant = (r: GrantRow): GrantRecord => ({
  id: r.id,
  username: r.username,
  clientId: r.client_id,
  resource: r.resource,
  scopes: JSON.parse(r.scopes) as string[],
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  revokedReason: r.revoked_reason,
});
const toToken = (r: TokenRow): RefreshTokenRecord => ({
  tokenHash: r.token_hash,
  grantId: r.grant_id,
  parentHash: r.parent_hash,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
  supersededAt: r.superseded_at,
  accessTokenId: r.access_token_id,
});

const COLUMNS = ['id', 'username', 'client_id', '1'] as const;
type Column = (typeof COLUMNS)[number];
/** Every grant: `1 = 1`. */
const ALL: [Column, number] = ['1', 1];
const column = (s: GrantSelector): [Column, string] => ('id' in s ? ['id', s.id] : 'username' in s ? ['username', s.username] : ['client_id', s.clientId]);

/** {@link GrantRepository} on SQLite. */
export class SqliteGrantRepository implements GrantRepository {
  private readonly db;
  private readonly grouped;
  private readonly stmt;
  /** The selector's statements, prepared once per column it can name. */
  private readonly byColumn;

  constructor(database: SqliteDatabaseService) {
    const db = (this.db = database.db);
    this.grouped = database.grouped;
    const each = (sql: (name: Column) => string) => Object.fromEntries(COLUMNS.map((name) => [name, db.prepare(sql(name))])) as Record<Column, Statement>;
    this.byColumn = {
      list: each((name) => `SELECT * FROM grants WHERE ${name} = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC`),
      revoke: each((name) => `UPDATE grants SET revoked_at = ?, revoked_reason = ? WHERE ${name} = ? AND revoked_at IS NULL RETURNING *`),
    };
    this.stmt = {
      insertGrant: db.prepare(
        `INSERT INTO grants (id, username, client_id, resource, scopes, created_at, last_used_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertToken: db.prepare(
        `INSERT INTO refresh_tokens (token_hash, grant_id, parent_hash, created_at, expires_at, access_token_id) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      spendCode: db.prepare(`UPDATE authorization_codes SET redeemed_at = ?, grant_id = ? WHERE code_hash = ? AND redeemed_at IS NULL`),
      token: db.prepare(`SELECT * FROM refresh_tokens WHERE token_hash = ?`),
      grant: db.prepare(`SELECT * FROM grants WHERE id = ?`),
      markUsed: db.prepare(`UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND superseded_at IS NULL`),
      superseded: db.prepare(`SELECT superseded_at FROM refresh_tokens WHERE token_hash = ?`),
      // Both by index (the primary key, parent_hash): never a scan of the grant's whole chain.
      supersedeParent: db.prepare(`UPDATE refresh_tokens SET superseded_at = ? WHERE token_hash = ? AND superseded_at IS NULL`),
      supersedeSiblings: db.prepare(
        `UPDATE refresh_tokens SET superseded_at = ? WHERE parent_hash = ? AND token_hash <> ? AND used_at IS NULL AND superseded_at IS NULL`,
      ),
      touch: db.prepare(`UPDATE grants SET last_used_at = ? WHERE id = ?`),
      since: db.prepare(`SELECT access_token_id FROM refresh_tokens WHERE grant_id = ? AND created_at >= ?`),
      consent: db.prepare(`SELECT * FROM consents WHERE username = ? AND client_id = ? AND resource = ?`),
      remember: db.prepare(
        `INSERT INTO consents (username, client_id, resource, scopes, granted_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (username, client_id, resource) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at`,
      ),
      forgetAll: db.prepare(`DELETE FROM consents WHERE username = ?`),
      forgetClient: db.prepare(`DELETE FROM consents WHERE username = ? AND client_id = ?`),
      endedTokens: db.prepare(`DELETE FROM refresh_tokens WHERE grant_id IN (SELECT id FROM grants WHERE expires_at < ? OR revoked_at < ?)`),
      ended: db.prepare(`DELETE FROM grants WHERE expires_at < ? OR revoked_at < ?`),
    };
  }

  // Code exchanges and refreshes share commits with those running at the same moment: one fsync for many.
  start(g: GrantRecord, t: RefreshTokenRecord, codeHash: string): Promise<boolean> {
    return this.grouped.run(() => {
      if (this.stmt.spendCode.run(g.createdAt, g.id, codeHash).changes !== 1) return false;
      this.stmt.insertGrant.run(g.id, g.username, g.clientId, g.resource, JSON.stringify(g.scopes), g.createdAt, g.lastUsedAt, g.expiresAt);
      this.insertToken(t);
      return true;
    });
  }

  private insertToken(t: RefreshTokenRecord): void {
    this.stmt.insertToken.run(t.tokenHash, t.grantId, t.parentHash, t.createdAt, t.expiresAt, t.accessTokenId);
  }

  async findToken(tokenHash: string) {
    const token = this.stmt.token.get(tokenHash) as TokenRow | undefined;
    const grant = token ? (this.stmt.grant.get(token.grant_id) as GrantRow | undefined) : undefined;
    return token && grant ? { token: toToken(token), grant: toGrant(grant) } : undefined;
  }

  rotate(parent: RefreshTokenRecord, child: RefreshTokenRecord, at: number): Promise<'first' | 'parallel' | 'reuse'> {
    return this.grouped.run((): 'first' | 'parallel' | 'reuse' => {
      let use: 'first' | 'parallel' | 'reuse' = 'first';
      if (this.stmt.markUsed.run(at, parent.tokenHash).changes === 1) {
        if (parent.parentHash !== null) {
          this.stmt.supersedeParent.run(at, parent.parentHash);
          this.stmt.supersedeSiblings.run(at, parent.parentHash, parent.tokenHash);
        }
      } else {
        const row = this.stmt.superseded.get(parent.tokenHash) as { superseded_at: number | null } | undefined;
        use = row && row.superseded_at === null ? 'parallel' : 'reuse';
      }
      if (use === 'reuse') return use;
      this.insertToken(child);
      this.stmt.touch.run(at, parent.grantId);
      return use;
    });
  }

  async list(selector: GrantSelector | undefined, now: number): Promise<GrantRecord[]> {
    const [name, value] = selector ? column(selector) : ALL;
    return (this.byColumn.list[name].all(value, now) as GrantRow[]).map(toGrant);
  }

  async revoke(selector: GrantSelector, at: number, reason: string): Promise<GrantRecord[]> {
    const [name, value] = column(selector);
    return (this.byColumn.revoke[name].all(at, reason, value) as GrantRow[]).map(toGrant);
  }

  async accessTokensSince(grantId: string, since: number): Promise<string[]> {
    return (this.stmt.since.all(grantId, since) as Array<{ access_token_id: string }>).map((r) => r.access_token_id);
  }

  async consentOf(username: string, clientId: string, resource: string): Promise<ConsentRecord | undefined> {
    const r = this.stmt.consent.get(username, clientId, resource) as ConsentRow | undefined;
    return r
      ? { username: r.username, clientId: r.client_id, resource: r.resource, scopes: JSON.parse(r.scopes) as string[], grantedAt: r.granted_at }
      : undefined;
  }

  async rememberConsent(c: ConsentRecord): Promise<void> {
    this.stmt.remember.run(c.username, c.clientId, c.resource, JSON.stringify(c.scopes), c.grantedAt);
  }

  async forgetConsents(username: string, clientId?: string): Promise<number> {
    return (clientId === undefined ? this.stmt.forgetAll.run(username) : this.stmt.forgetClient.run(username, clientId)).changes;
  }

  async deleteEnded(before: number): Promise<number> {
    this.stmt.endedTokens.run(before, before);
    return this.stmt.ended.run(before, before).changes;
  }
}
