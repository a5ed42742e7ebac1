import type { DatabaseEngine } from '@crossauth/storage';

/** The database session-buddy was configured with: PostgreSQL when a URL is set, SQLite otherwise. */
export type StorageEngine = DatabaseEngine;

/** DI token of the {@link StorageEngine}. */
export const STORAGE_ENGINE = Symbol('session-buddy:storage-engine');

/** DI token of the shared-state Redis connection (`RedisConnection`), or null when none is configured. */
export const REDIS_CONNECTION = Symbol('session-buddy:redis-connection');

/** DI token of the {@link SharedStores} on that connection (none without Redis). */
export const SHARED_STORES = Symbol('session-buddy:shared-stores');
