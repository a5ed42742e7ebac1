import { Controller, Inject } from '@nestjs/common';
import { Public } from '@crossauth/auth';
import { HealthProbeController, type ProbeCheck } from '@crossauth/mcp-server';
import type { DatabaseEngine, RedisConnection } from '@crossauth/storage';
import { REDIS_CONNECTION } from '../shared-state/shared-state.module';
import { STORAGE_ENGINE } from '../storage/storage.module';

/** Ready when its store (clients, revocations) answers and, when configured, Redis does: grants and signed calls need both. */
@Public()
@Controller('health')
export class HealthController extends HealthProbeController {
  constructor(
    @Inject(STORAGE_ENGINE) private readonly storage: DatabaseEngine,
    @Inject(REDIS_CONNECTION) private readonly redis: RedisConnection | null,
  ) {
    super();
  }

  protected async checks(): Promise<Record<string, ProbeCheck>> {
    return {
      database: (await this.storage.health()).ok ? 'ok' : 'down',
      redis: this.redis === null ? 'not_configured' : this.redis.ready ? 'ok' : 'down',
    };
  }
}
