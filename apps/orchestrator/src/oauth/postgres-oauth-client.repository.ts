import type { PostgresDatabaseService } from '@crossauth/storage';
import type { ClientJwks } from '@crossauth/auth';
import type { OAuthClientRecord, OAuthClientRepository } from './oauth-client.repository';

type Row = {
  id: string;
  name: string | null;
  allowed_scopes: string[];
  allowed_resources: string[];
  secret_hash: string | null;
  secret_key_id: string | null;
  jwks: ClientJwks | null;
  redirect_uris: string[] | null;
  created_at: number;
  secret_rotated_at: number | null;
  dynamic: number | boolean | null;
  last_used_at: number | string | null;
};

const toRecord = (r: Row): OAuthClientRecord => ({
  id: r.id,
  name: r.name,
  allowedScopes: r.allowed_scopes,
  allowedResources: r.allowed_resources,
  secretHash: r.secret_hash,
  secretKeyId: r.secret_key_id,
  jwks: r.jwks,
  redirectUris: r.redirect_uris,
  createdAt: r.created_at,
  secretRotatedAt: r.secret_rotated_at,
  dynamic: Boolean(r.dynamic),
  lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
});

/** {@link OAuthClientRepository} on PostgreSQL. */
export class PostgresOAuthClientRepository implements OAuthClientRepository {
  constructor(private readonly db: PostgresDatabaseService) {}

  async insert(c: OAuthClientRecord): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `INSERT INTO oauth_clients (id, name, allowed_scopes, allowed_resources, secret_hash, secret_key_id, jwks, created_at, redirect_uris, dynamic) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`,
      [
        c.id,
        c.name,
        JSON.stringify(c.allowedScopes),
        JSON.stringify(c.allowedResources),
        c.secretHash,
        c.secretKeyId,
        c.jwks === null ? null : JSON.stringify(c.jwks),
        c.createdAt,
        c.redirectUris === null ? null : JSON.stringify(c.redirectUris),
        c.dynamic,
      ],
    );
    return rowCount === 1;
  }

  async find(id: string): Promise<OAuthClientRecord | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT * FROM oauth_clients WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async list(): Promise<OAuthClientRecord[]> {
    const { rows } = await this.db.query<Row>(`SELECT * FROM oauth_clients ORDER BY id COLLATE "C"`);
    return rows.map(toRecord);
  }

  async updateSecret(id: string, secretHash: string, secretKeyId: string, rotatedAt: number): Promise<boolean> {
    const { rowCount } = await this.db.query(`UPDATE oauth_clients SET secret_hash = $1, secret_key_id = $2, secret_rotated_at = $3 WHERE id = $4`, [
      secretHash,
      secretKeyId,
      rotatedAt,
      id,
    ]);
    return rowCount === 1;
  }

  async remove(id: string): Promise<boolean> {
    return (await this.db.query(`DELETE FROM oauth_clients WHERE id = $1`, [id])).rowCount === 1;
  }

  async touch(id: string, at: number): Promise<void> {
    await this.db.query(`UPDATE oauth_clients SET last_used_at = $1 WHERE id = $2`, [at, id]);
  }

  async unusedDynamic(before: number): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(`SELECT id FROM oauth_clients WHERE dynamic AND coalesce(last_used_at, created_at) < $1`, [before]);
    return rows.map((r) => r.id);
  }
}
