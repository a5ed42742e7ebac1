import type { PostgresDatabaseService } from '@crossauth/storage';
import { userFromRow, type UserRecord, type UserRepository, type UserRole, type UserRow } from './user.repository';

/** {@link UserRepository} on PostgreSQL. */
export class PostgresUserRepository implements UserRepository {
  constructor(private readonly db: PostgresDatabaseService) {}

  async insert(u: UserRecord): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `INSERT INTO users (username, password_hash, role, created_at, password_changed_at, identity_provider, external_subject)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
      [u.username, u.passwordHash, u.role, u.createdAt, u.passwordChangedAt, u.identityProvider, u.externalSubject],
    );
    return rowCount === 1;
  }

  async find(username: string): Promise<UserRecord | undefined> {
    const { rows } = await this.db.query<UserRow>(`SELECT * FROM users WHERE username = $1`, [username]);
    return rows[0] ? userFromRow(rows[0]) : undefined;
  }

  async findExternal(identityProvider: string, externalSubject: string): Promise<UserRecord | undefined> {
    const { rows } = await this.db.query<UserRow>(`SELECT * FROM users WHERE identity_provider = $1 AND external_subject = $2`, [
      identityProvider,
      externalSubject,
    ]);
    return rows[0] ? userFromRow(rows[0]) : undefined;
  }

  async list(): Promise<UserRecord[]> {
    const { rows } = await this.db.query<UserRow>(`SELECT * FROM users ORDER BY username COLLATE "C"`);
    return rows.map(userFromRow);
  }

  async count(): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM users`);
    return Number(rows[0]?.n ?? 0);
  }

  async updatePassword(username: string, passwordHash: string, changedAt: number): Promise<boolean> {
    return (
      (await this.db.query(`UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE username = $3`, [passwordHash, changedAt, username]))
        .rowCount === 1
    );
  }

  async updateRole(username: string, role: UserRole): Promise<boolean> {
    return (await this.db.query(`UPDATE users SET role = $1 WHERE username = $2`, [role, username])).rowCount === 1;
  }

  async updateSignedOut(username: string, at: number): Promise<boolean> {
    return (await this.db.query(`UPDATE users SET signed_out_at = $1 WHERE username = $2`, [at, username])).rowCount === 1;
  }

  async remove(username: string): Promise<boolean> {
    return (await this.db.query(`DELETE FROM users WHERE username = $1`, [username])).rowCount === 1;
  }
}
