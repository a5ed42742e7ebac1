import { Get, HttpCode, Res } from '@nestjs/common';
import type { Response } from 'express';

/** One dependency's state in a readiness answer. */
export type ProbeCheck = 'ok' | 'down' | 'not_configured';

/**
 * Liveness and readiness probes for container healthchecks and load
 * balancers, public and free of detail. Liveness: the process serves HTTP.
 * Readiness: no dependency it needs is down, so a balancer sends traffic
 * elsewhere meanwhile. An app subclasses it with `@Public()
 * @Controller('health')` and says what it depends on in {@link checks}.
 */
export abstract class HealthProbeController {
  /** Each dependency by name, in the order the answer lists them. */
  protected abstract checks(): Promise<Record<string, ProbeCheck>>;

  @Get('live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res() res: Response): Promise<void> {
    const checks = await this.checks();
    const ready = Object.values(checks).every((check) => check !== 'down');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', ...checks });
  }
}
