import type { PostgresDatabaseService } from './postgres-database.service';
import type { SqliteDatabaseService } from './sqlite-database.service';

/** The database session-buddy was configured with: PostgreSQL when a URL is set, SQLite otherwise. */
export type StorageEngine = SqliteDatabaseService | PostgresDatabaseService;

/** DI token of the {@link StorageEngine}. */
export const STORAGE_ENGINE = Symbol('session-buddy:storage-engine');

/** What health checks report about storage. */
export interface StorageHealth {
  readonly ok: boolean;
  readonly engine: 'sqlite' | 'postgres';
  readonly schemaVersion: number;
  readonly detail?: Record<string, unknown>;
}

/** DI token of the shared-state Redis connection (`RedisConnection`), or null when none is configured. */
export const REDIS_CONNECTION = Symbol('session-buddy:redis-connection');
