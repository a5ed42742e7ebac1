import { PersistentRevocationStore } from './persistent-revocation.store';
import { PostgresDatabaseService, type PostgresSettings } from './postgres/postgres-database.service';
import { PostgresRevocationRepository } from './postgres/postgres-revocation.repository';
import type { RedisConnection } from './redis/redis-connection';
import { RedisRevocationFanout } from './redis/redis-revocation.fanout';
import { SqliteDatabaseService } from './sqlite/sqlite-database.service';
import { SqliteRevocationRepository } from './sqlite/sqlite-revocation.repository';

/** A service's database: SQLite by default, PostgreSQL when configured. */
export type DatabaseEngine = SqliteDatabaseService | PostgresDatabaseService;

/** A service's schema on both engines. */
export interface ServiceSchema {
  /** The service: names the SQLite file, the PostgreSQL migrations table and lock. */
  readonly name: string;
  /** The variable holding the PostgreSQL URL, named (never the URL) in errors. */
  readonly setting: string;
  readonly sqlite: readonly string[];
  readonly postgres: readonly string[];
}

/** Opens and migrates PostgreSQL when `database` is set, else SQLite in `dataDir`. */
export function openDatabase(where: { readonly database?: PostgresSettings; readonly dataDir: string }, schema: ServiceSchema): Promise<DatabaseEngine> {
  return where.database
    ? PostgresDatabaseService.connect(where.database, { name: schema.name, migrations: schema.postgres, setting: schema.setting })
    : SqliteDatabaseService.open(where.dataDir, schema.name, schema.sqlite);
}

/**
 * A service's revocation store on its database: shared (polled) on PostgreSQL,
 * and fanned out over Redis when there is one.
 */
export function openRevocationStore(engine: DatabaseEngine, redis: RedisConnection | null): Promise<PersistentRevocationStore> {
  const repository = engine.kind === 'postgres' ? new PostgresRevocationRepository(engine) : new SqliteRevocationRepository(engine);
  return PersistentRevocationStore.load(repository, { shared: engine.kind === 'postgres', fanout: redis ? new RedisRevocationFanout(redis) : undefined });
}
