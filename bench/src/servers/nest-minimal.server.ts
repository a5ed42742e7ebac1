// The bare baseline's own handler inside the smallest NestJS app: one
// controller, no guard, nothing of crossauth's. Its ratio to the baseline is
// what NestJS itself costs on the request path, the floor under crossauth's
// rows (crossauth's apps are NestJS by design). Answers in JSON.
import 'reflect-metadata';
import { Controller, Module, Post, Req, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Request, Response } from 'express';
import { bareMcpHandler } from './bare-handler';

const port = Number(process.env['PORT'] ?? 0);
const handle = bareMcpHandler('nest-minimal', { stateless: process.argv.includes('--stateless'), enableJsonResponse: true });

@Controller('mcp')
class McpController {
  @Post()
  post(@Req() req: Request, @Res() res: Response): Promise<void> {
    return handle(req, res, req.body);
  }
}

@Module({ controllers: [McpController] })
class NestMinimalModule {}

void NestFactory.create(NestMinimalModule, { logger: ['warn', 'error'], bodyParser: true }).then(async (app) => {
  await app.listen(port, '127.0.0.1');
  process.stdout.write(`listening ${(app.getHttpServer().address() as { port: number }).port}\n`);
});
// Exit cleanly on SIGTERM so --cpu-prof can write its profile.
process.on('SIGTERM', () => process.exit(0));
