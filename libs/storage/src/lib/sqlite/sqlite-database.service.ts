import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import Database from 'better-sqlite3';
import { migrate } from '../migrator';
import { GroupCommit } from './group-commit';
import type { StorageHealth } from '../storage-health';

/**
 * A service's SQLite database in its data directory, the zero-configuration
 * default. WAL with `synchronous=FULL`: a write that returned has been
 * fsynced, so what a tool acknowledged survives a crash or power loss.
 */
export class SqliteDatabaseService {
  readonly kind = 'sqlite';
  private static readonly logger = new Logger(SqliteDatabaseService.name);

  /** Writes that may share a commit with others asked for in the same turn (see {@link GroupCommit}). */
  readonly grouped: GroupCommit;

  private constructor(readonly db: Database.Database) {
    this.grouped = new GroupCommit(db);
  }

  /** Opens (creating it if needed) `<dataDir>/<name>.sqlite` and applies `migrations`. */
  static async open(dataDir: string, name: string, migrations: readonly string[]): Promise<SqliteDatabaseService> {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const db = new Database(join(dataDir, `${name}.sqlite`));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const version = () => db.pragma('user_version', { simple: true }) as number;
    await migrate(
      {
        // BEGIN IMMEDIATE in apply takes SQLite's write lock, and apply re-reads the version under it.
        exclusive: (fn) => fn(),
        version: async () => version(),
        apply: async (target, sql) => {
          db.transaction(() => {
            if (version() >= target) return;
            db.exec(sql);
            db.pragma(`user_version = ${target}`);
          }).immediate();
        },
      },
      migrations,
      SqliteDatabaseService.logger,
    );
    return new SqliteDatabaseService(db);
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  async health(): Promise<StorageHealth> {
    const ok = (this.db.prepare('SELECT 1 AS ok').get() as { ok: number }).ok === 1;
    return { ok, engine: 'sqlite', schemaVersion: this.schemaVersion, detail: { journalMode: this.db.pragma('journal_mode', { simple: true }) as string } };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
