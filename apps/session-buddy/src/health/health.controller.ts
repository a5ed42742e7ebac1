import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import { Public, type JwksKeySource, type RedisConnection } from '@crossauth/auth';
import type { Response } from 'express';
import { ISSUER_KEYS } from '../issuer-keys/issuer-keys.module';
import { REDIS_CONNECTION, STORAGE_ENGINE, type StorageEngine } from '../storage/storage-engine';

type Check = 'ok' | 'down' | 'not_configured';

/**
 * Probes for orchestrators and load balancers, public and free of detail.
 * Liveness: the process serves HTTP. Readiness: it can do its work, i.e. its
 * database answers and, when configured, Redis does too (without Redis signed
 * calls are refused) and, with a JWKS URL, the issuer's keys have been
 * fetched, so a balancer sends traffic elsewhere meanwhile.
 */
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @Inject(STORAGE_ENGINE) private readonly storage: StorageEngine,
    @Inject(REDIS_CONNECTION) private readonly redis: RedisConnection | null,
    @Inject(ISSUER_KEYS) private readonly issuerKeys: JwksKeySource | null,
  ) {}

  @Get('live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res() res: Response): Promise<void> {
    const database: Check = (await this.storage.health()).ok ? 'ok' : 'down';
    const redis: Check = this.redis === null ? 'not_configured' : this.redis.ready && this.redis.subscribed ? 'ok' : 'down';
    const jwks: Check = this.issuerKeys === null ? 'not_configured' : this.issuerKeys.loaded ? 'ok' : 'down';
    const ready = database === 'ok' && redis !== 'down' && jwks !== 'down';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', database, redis, jwks });
  }
}
