import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { sessionBuddyConfig } from '../config/session-buddy.config';
import type { SessionBuddyConfig } from '../config/env.schema';
import { PersistentRevocationStore, RedisConnection, openDatabase, openRevocationStore, sharedStores } from '@crossauth/storage';
import { POSTGRES_MIGRATIONS } from './postgres-migrations';
import { SQLITE_MIGRATIONS } from './sqlite-migrations';
import { REDIS_CONNECTION, SHARED_STORES, STORAGE_ENGINE, type StorageEngine } from './storage-engine';

/**
 * The database (PostgreSQL when `SESSION_BUDDY_DATABASE_URL` is set, SQLite
 * otherwise; each feature module builds its repository on it), Redis for state shared between
 * instances (when `SESSION_BUDDY_REDIS_URL` is set), and the revocation store
 * the auth layer consults, for injection into AuthModule.
 */
@Module({
  providers: [
    {
      provide: STORAGE_ENGINE,
      inject: [sessionBuddyConfig.KEY],
      useFactory: (c: SessionBuddyConfig): Promise<StorageEngine> =>
        openDatabase(c, { name: 'session-buddy', setting: 'SESSION_BUDDY_DATABASE_URL', sqlite: SQLITE_MIGRATIONS, postgres: POSTGRES_MIGRATIONS }),
    },
    {
      provide: REDIS_CONNECTION,
      inject: [sessionBuddyConfig.KEY],
      useFactory: (c: SessionBuddyConfig): Promise<RedisConnection | null> =>
        c.redisUrl ? RedisConnection.open(c.redisUrl, 'session-buddy') : Promise.resolve(null),
    },
    {
      provide: SHARED_STORES,
      inject: [sessionBuddyConfig.KEY, REDIS_CONNECTION],
      // Signed requests and project messages share the signature window; a nonce may start up to the skew ahead.
      useFactory: (c: SessionBuddyConfig, redis: RedisConnection | null) =>
        sharedStores(redis, { lossGuardMs: (c.auth.signatureMaxAgeSeconds + c.auth.clockSkewSeconds) * 1000 }),
    },
    {
      provide: PersistentRevocationStore,
      inject: [STORAGE_ENGINE, REDIS_CONNECTION],
      useFactory: openRevocationStore,
    },
  ],
  exports: [STORAGE_ENGINE, REDIS_CONNECTION, SHARED_STORES, PersistentRevocationStore],
})
export class StorageModule implements OnApplicationShutdown {
  constructor(
    @Inject(STORAGE_ENGINE) private readonly engine: StorageEngine,
    @Inject(REDIS_CONNECTION) private readonly redis: RedisConnection | null,
    private readonly revocations: PersistentRevocationStore,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    this.revocations.close();
    await this.redis?.close();
    await this.engine.close();
  }
}
