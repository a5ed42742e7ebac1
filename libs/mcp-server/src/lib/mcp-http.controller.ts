import { Controller, Delete, Get, Logger, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { InFlightRequests } from './in-flight-requests.service';
import { McpAdmission } from './mcp-admission.service';
import { dispatch, writeAnswer } from './mcp-http-answer';
import { McpLegacyHandler } from './mcp-legacy.handler';
import { McpModernExchange } from './modern-exchange.service';

/**
 * Streamable HTTP at `/mcp`. The global guard has authenticated the request
 * (every request, `initialize` included); {@link McpAdmission} decides the
 * rest of what is checked before anything runs, and the request then goes to
 * its protocol era: 2026-07-28 to {@link McpModernExchange} (one POST, one
 * answer), 2025-era to {@link McpLegacyHandler} (sessions).
 */
@Controller('mcp')
export class McpHttpController {
  private readonly logger = new Logger(McpHttpController.name);

  constructor(
    private readonly admission: McpAdmission,
    private readonly legacy: McpLegacyHandler,
    private readonly modern: McpModernExchange,
    private readonly inFlight: InFlightRequests,
  ) {}

  @Post()
  post(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.inFlight.track(async () => {
      const { admitted, refused } = await this.admission.admitPost(req);
      if (refused) return writeAnswer(res, refused);
      const route = admitted.modern;
      if (!route) return this.legacy.post(req, res, admitted);
      await dispatch(res, this.logger, async () =>
        writeAnswer(res, await this.modern.answer(route.message, route.classification.revision, admitted.caller.auth)),
      );
    });
  }

  @Get()
  async get(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.sessionRequest(req, res);
  }

  @Delete()
  delete(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.inFlight.track(() => this.sessionRequest(req, res));
  }

  private async sessionRequest(req: Request, res: Response): Promise<void> {
    const { admitted, refused } = await this.admission.admitSessionRequest(req);
    if (refused) return writeAnswer(res, refused);
    await this.legacy.sessionRequest(req, res, admitted);
  }
}
