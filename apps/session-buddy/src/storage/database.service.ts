import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import Database from 'better-sqlite3';
import { sessionBuddyConfig } from '../config/session-buddy.config';
import type { SessionBuddyConfig } from '../config/env.schema';
import { MIGRATIONS } from './migrations';

/**
 * The SQLite database in the data directory. WAL with `synchronous=FULL`: a
 * write that returned has been fsynced, so what a tool acknowledged survives a
 * crash or power loss. Migrations run at start-up, in order, each in a transaction.
 */
@Injectable()
export class DatabaseService implements OnModuleDestroy {
  private readonly logger = new Logger(DatabaseService.name);
  readonly db: Database.Database;

  constructor(@Inject(sessionBuddyConfig.KEY) config: SessionBuddyConfig) {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    this.db = new Database(join(config.dataDir, 'session-buddy.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /** Storage status for health checks. */
  health(): { ok: boolean; engine: string; journalMode: string; schemaVersion: number } {
    const journalMode = this.db.pragma('journal_mode', { simple: true }) as string;
    const ok = (this.db.prepare('SELECT 1 AS ok').get() as { ok: number }).ok === 1;
    return { ok, engine: 'sqlite', journalMode, schemaVersion: this.schemaVersion };
  }

  onModuleDestroy(): void {
    if (this.db.open) this.db.close();
  }

  private migrate(): void {
    const current = this.schemaVersion;
    for (const [index, sql] of MIGRATIONS.entries()) {
      const version = index + 1;
      if (version <= current) continue;
      this.db.transaction(() => {
        this.db.exec(sql);
        this.db.pragma(`user_version = ${version}`);
      })();
      this.logger.log({ event: 'migration_applied', version });
    }
  }
}
