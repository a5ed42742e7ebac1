import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import { Public, type RedisConnection } from '@crossauth/auth';
import type { DatabaseEngine } from '@crossauth/storage';
import type { Response } from 'express';
import { REDIS_CONNECTION } from '../shared-state/shared-state.module';
import { STORAGE_ENGINE } from '../storage/storage.module';

type Check = 'ok' | 'down' | 'not_configured';

/**
 * Probes for container healthchecks and load balancers, public and free of
 * detail. Liveness: the process serves HTTP. Readiness: its store (clients,
 * revocations) answers and, when configured, Redis does too; otherwise grants
 * and signed calls would fail, so traffic should go elsewhere meanwhile.
 */
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @Inject(STORAGE_ENGINE) private readonly storage: DatabaseEngine,
    @Inject(REDIS_CONNECTION) private readonly redis: RedisConnection | null,
  ) {}

  @Get('live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res() res: Response): Promise<void> {
    const database: Check = (await this.storage.health()).ok ? 'ok' : 'down';
    const redis: Check = this.redis === null ? 'not_configured' : this.redis.ready ? 'ok' : 'down';
    const ready = database === 'ok' && redis !== 'down';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', database, redis });
  }
}
