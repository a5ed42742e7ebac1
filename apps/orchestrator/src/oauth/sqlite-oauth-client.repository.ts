import type { SqliteDatabaseService } from '@crossauth/storage';
import type { ClientJwks } from '@crossauth/auth';
import type { OAuthClientRecord, OAuthClientRepository } from './oauth-client.repository';

type Row = {
  id: string;
  name: string | null;
  allowed_scopes: string;
  allowed_resources: string;
  secret_hash: string | null;
  secret_key_id: string | null;
  jwks: string | null;
  redirect_uris: string | null;
  created_at: number;
  secret_rotated_at: number | null;
  dynamic: number | boolean | null;
  last_used_at: number | string | null;
};

const toRecord = (r: Row): OAuthClientRecord => ({
  id: r.id,
  name: r.name,
  allowedScopes: JSON.parse(r.allowed_scopes) as string[],
  allowedResources: JSON.parse(r.allowed_resources) as string[],
  secretHash: r.secret_hash,
  secretKeyId: r.secret_key_id,
  jwks: r.jwks === null ? null : (JSON.parse(r.jwks) as ClientJwks),
  redirectUris: r.redirect_uris === null ? null : (JSON.parse(r.redirect_uris) as string[]),
  createdAt: r.created_at,
  secretRotatedAt: r.secret_rotated_at,
  dynamic: Boolean(r.dynamic),
  lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
});

/** {@link OAuthClientRepository} on SQLite. */
export class SqliteOAuthClientRepository implements OAuthClientRepository {
  private readonly stmt;

  constructor(database: SqliteDatabaseService) {
    const db = database.db;
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO oauth_clients (id, name, allowed_scopes, allowed_resources, secret_hash, secret_key_id, jwks, created_at, redirect_uris, dynamic) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      ),
      find: db.prepare(`SELECT * FROM oauth_clients WHERE id = ?`),
      list: db.prepare(`SELECT * FROM oauth_clients ORDER BY id`),
      updateSecret: db.prepare(`UPDATE oauth_clients SET secret_hash = ?, secret_key_id = ?, secret_rotated_at = ? WHERE id = ?`),
      remove: db.prepare(`DELETE FROM oauth_clients WHERE id = ?`),
      touch: db.prepare(`UPDATE oauth_clients SET last_used_at = ? WHERE id = ?`),
      unused: db.prepare(`SELECT id FROM oauth_clients WHERE dynamic = 1 AND coalesce(last_used_at, created_at) < ?`),
    };
  }

  async insert(c: OAuthClientRecord): Promise<boolean> {
    return (
      this.stmt.insert.run(
        c.id,
        c.name,
        JSON.stringify(c.allowedScopes),
        JSON.stringify(c.allowedResources),
        c.secretHash,
        c.secretKeyId,
        c.jwks === null ? null : JSON.stringify(c.jwks),
        c.createdAt,
        c.redirectUris === null ? null : JSON.stringify(c.redirectUris),
        c.dynamic ? 1 : 0,
      ).changes === 1
    );
  }

  async find(id: string): Promise<OAuthClientRecord | undefined> {
    const row = this.stmt.find.get(id) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  async list(): Promise<OAuthClientRecord[]> {
    return (this.stmt.list.all() as Row[]).map(toRecord);
  }

  async updateSecret(id: string, secretHash: string, secretKeyId: string, rotatedAt: number): Promise<boolean> {
    return this.stmt.updateSecret.run(secretHash, secretKeyId, rotatedAt, id).changes === 1;
  }

  async remove(id: string): Promise<boolean> {
    return this.stmt.remove.run(id).changes === 1;
  }

  async touch(id: string, at: number): Promise<void> {
    this.stmt.touch.run(at, id);
  }

  async unusedDynamic(before: number): Promise<string[]> {
    return (this.stmt.unused.all(before) as Array<{ id: string }>).map((r) => r.id);
  }
}
