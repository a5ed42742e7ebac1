import { Controller, Inject } from '@nestjs/common';
import { Public, type JwksKeySource } from '@crossauth/auth';
import type { RedisConnection } from '@crossauth/storage';
import { HealthProbeController, type ProbeCheck } from '@crossauth/mcp-server';
import { ISSUER_KEYS } from '../issuer-keys/issuer-keys.module';
import { REDIS_CONNECTION, STORAGE_ENGINE, type StorageEngine } from '../storage/storage-engine';

/**
 * Ready when its database answers and, when configured, Redis does too
 * (without Redis signed calls are refused) and the issuer's JWKS has been
 * fetched (without it no token verifies).
 */
@Public()
@Controller('health')
export class HealthController extends HealthProbeController {
  constructor(
    @Inject(STORAGE_ENGINE) private readonly storage: StorageEngine,
    @Inject(REDIS_CONNECTION) private readonly redis: RedisConnection | null,
    @Inject(ISSUER_KEYS) private readonly issuerKeys: JwksKeySource | null,
  ) {
    super();
  }

  protected async checks(): Promise<Record<string, ProbeCheck>> {
    return {
      database: (await this.storage.health()).ok ? 'ok' : 'down',
      redis: this.redis === null ? 'not_configured' : this.redis.ready && this.redis.subscribed ? 'ok' : 'down',
      jwks: this.issuerKeys === null ? 'not_configured' : this.issuerKeys.loaded ? 'ok' : 'down',
    };
  }
}
