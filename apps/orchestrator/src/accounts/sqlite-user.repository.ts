import type { SqliteDatabaseService } from '@crossauth/storage';
import { userFromRow, type UserRecord, type UserRepository, type UserRole, type UserRow } from './user.repository';

/** {@link UserRepository} on SQLite. */
export class SqliteUserRepository implements UserRepository {
  private readonly stmt;

  constructor(database: SqliteDatabaseService) {
    const db = database.db;
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO users (username, password_hash, role, created_at, password_changed_at, identity_provider, external_subject) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      find: db.prepare(`SELECT * FROM users WHERE username = ?`),
      findExternal: db.prepare(`SELECT * FROM users WHERE identity_provider = ? AND external_subject = ?`),
      list: db.prepare(`SELECT * FROM users ORDER BY username`),
      count: db.prepare(`SELECT count(*) AS n FROM users`),
      password: db.prepare(`UPDATE users SET password_hash = ?, password_changed_at = ? WHERE username = ?`),
      role: db.prepare(`UPDATE users SET role = ? WHERE username = ?`),
      signedOut: db.prepare(`UPDATE users SET signed_out_at = ? WHERE username = ?`),
      remove: db.prepare(`DELETE FROM users WHERE username = ?`),
    };
  }

  async insert(u: UserRecord): Promise<boolean> {
    return this.stmt.insert.run(u.username, u.passwordHash, u.role, u.createdAt, u.passwordChangedAt, u.identityProvider, u.externalSubject).changes === 1;
  }

  async find(username: string): Promise<UserRecord | undefined> {
    const row = this.stmt.find.get(username) as UserRow | undefined;
    return row ? userFromRow(row) : undefined;
  }

  async findExternal(identityProvider: string, externalSubject: string): Promise<UserRecord | undefined> {
    const row = this.stmt.findExternal.get(identityProvider, externalSubject) as UserRow | undefined;
    return row ? userFromRow(row) : undefined;
  }

  async list(): Promise<UserRecord[]> {
    return (this.stmt.list.all() as UserRow[]).map(userFromRow);
  }

  async count(): Promise<number> {
    return (this.stmt.count.get() as { n: number }).n;
  }

  async updatePassword(username: string, passwordHash: string, changedAt: number): Promise<boolean> {
    return this.stmt.password.run(passwordHash, changedAt, username).changes === 1;
  }

  async updateRole(username: string, role: UserRole): Promise<boolean> {
    return this.stmt.role.run(role, username).changes === 1;
  }

  async updateSignedOut(username: string, at: number): Promise<boolean> {
    return this.stmt.signedOut.run(at, username).changes === 1;
  }

  async remove(username: string): Promise<boolean> {
    return this.stmt.remove.run(username).changes === 1;
  }
}
