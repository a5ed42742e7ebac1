import { Controller, Get, Req, Res } from '@nestjs/common';
import { AuthError, Public, RequestAuthenticatorService } from '@crossauth/auth';
import type { Request, Response } from 'express';
import { McpMetricsService } from './mcp-metrics.service';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/**
 * `GET /metrics` in the Prometheus text format: open to loopback scrapers,
 * and to anyone else only with an admin token.
 */
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: McpMetricsService,
    private readonly authenticator: RequestAuthenticatorService,
  ) {}

  @Get()
  async scrape(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (!LOOPBACK.test(req.socket.remoteAddress ?? '')) {
      // Throws AuthError, answered by the auth filter with a challenge.
      const { principal } = this.authenticator.authenticate(req);
      this.authenticator.authorize(principal, ['admin']);
      if (principal.anonymous) throw new AuthError('missing');
    }
    res.setHeader('Content-Type', this.metrics.registry.contentType);
    res.send(await this.metrics.registry.metrics());
  }
}
