import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { RedisConnection, sharedStores } from '@crossauth/storage';
import type { OrchestratorConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';
import { ASSERTION_MAX_LIFETIME_SECONDS } from '../oauth/oauth-clients.service';

/** DI token of the orchestrator's Redis connection, or null when `ORCHESTRATOR_REDIS_URL` is not set. */
export const REDIS_CONNECTION = Symbol('orchestrator:redis-connection');

/** DI token of the `SharedStores` on that connection (none without Redis). */
export const SHARED_STORES = Symbol('orchestrator:shared-stores');

/**
 * Redis for what several orchestrator instances must share: the replay store
 * of signed requests and the auth-failure counts. Its downstream token cache
 * stays per instance (each instance mints its own).
 */
@Module({
  providers: [
    {
      provide: REDIS_CONNECTION,
      inject: [orchestratorConfig.KEY],
      useFactory: (c: OrchestratorConfig): Promise<RedisConnection | null> =>
        c.redisUrl ? RedisConnection.open(c.redisUrl, 'orchestrator') : Promise.resolve(null),
    },
    {
      provide: SHARED_STORES,
      inject: [orchestratorConfig.KEY, REDIS_CONNECTION],
      // The longest-lived nonce here is a client assertion's jti: its lifetime cap plus the skew, twice.
      useFactory: (c: OrchestratorConfig, redis: RedisConnection | null) =>
        sharedStores(redis, { lossGuardMs: (ASSERTION_MAX_LIFETIME_SECONDS + 2 * c.auth.clockSkewSeconds) * 1000 }),
    },
  ],
  exports: [REDIS_CONNECTION, SHARED_STORES],
})
export class SharedStateModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CONNECTION) private readonly redis: RedisConnection | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis?.close();
  }
}
