import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { RedisConnection } from '@crossauth/auth';
import type { OrchestratorConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';

/** DI token of the orchestrator's Redis connection, or null when `ORCHESTRATOR_REDIS_URL` is not set. */
export const REDIS_CONNECTION = Symbol('orchestrator:redis-connection');

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
      useFactory: (c: OrchestratorConfig): Promise<RedisConnection | null> => (c.redisUrl ? RedisConnection.open(c.redisUrl, 'orchestrator') : Promise.resolve(null)),
    },
  ],
  exports: [REDIS_CONNECTION],
})
export class SharedStateModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CONNECTION) private readonly redis: RedisConnection | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis?.close();
  }
}
