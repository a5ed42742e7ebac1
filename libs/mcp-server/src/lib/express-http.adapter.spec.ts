import { Controller, Get, Module, Post, Req, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Express, Request, Response } from 'express';
import type { Server } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import { ExpressHttpAdapter } from './express-http.adapter';

@Controller('probe')
class ProbeController {
  @Get()
  get(@Req() req: Request) {
    return { ip: req.ip, path: req.path, query: req.query };
  }

  @Post()
  post(@Req() req: Request, @Res() res: Response) {
    res.status(201).set('x-probe', 'yes').json({ method: req.method, host: req.hostname });
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

describe('ExpressHttpAdapter', () => {
  let app: NestExpressApplication;
  let url: string;
  const bornAsExpress: boolean[] = [];

  beforeAll(async () => {
    app = await NestFactory.create<NestExpressApplication>(ProbeModule, new ExpressHttpAdapter(), { logger: false });
    const express: Express = app.getHttpAdapter().getInstance();
    const server = app.getHttpServer() as Server;
    // Runs before Express's own handler, which re-parents whatever it is given.
    server.prependListener('request', (req, res) => {
      bornAsExpress.push(Object.getPrototypeOf(req) === express.request && Object.getPrototypeOf(res) === express.response);
    });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(() => app.close());

  it("creates every request and response with the app's own Express prototypes", async () => {
    await fetch(`${url}/probe`);
    await fetch(`${url}/probe`, { method: 'POST' });
    expect(bornAsExpress).toEqual([true, true]);
  });

  it("keeps Express's request and response behaviour", async () => {
    const get = await fetch(`${url}/probe?a=1`);
    expect(await get.json()).toEqual({ ip: '127.0.0.1', path: '/probe', query: { a: '1' } });
    const post = await fetch(`${url}/probe`, { method: 'POST' });
    expect(post.status).toBe(201);
    expect(post.headers.get('x-probe')).toBe('yes');
    expect(await post.json()).toEqual({ method: 'POST', host: '127.0.0.1' });
    expect((await fetch(`${url}/nowhere`)).status).toBe(404);
  });

  it("leaves HTTPS to Nest's own server", () => {
    const adapter = new ExpressHttpAdapter();
    adapter.initHttpServer({ httpsOptions: {} });
    expect(adapter.getHttpServer()).toBeInstanceOf(HttpsServer);
  });
});
