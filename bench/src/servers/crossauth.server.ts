// The same echo tool through @crossauth/mcp-server with auth required.
// Flags: --stateless, --no-cache, --signed, --no-auth (framework cost alone), --sse (event-stream answers).
// BENCH_REDIS_URL: the replay store in Redis (the scale bench's signed row), as session-buddy has it with SESSION_BUDDY_REDIS_URL.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { AuthModule } from '@crossauth/auth';
import { RedisConnection, RedisNonceStore } from '@crossauth/storage';
import { McpServerModule, McpTool, startMcpApplication } from '@crossauth/mcp-server';
import { z } from 'zod';

const flag = (name: string) => process.argv.includes(name);
const port = Number(process.env['PORT'] ?? 0);
const secret = process.env['BENCH_SECRET'] ?? '';
const redisUrl = process.env['BENCH_REDIS_URL'];
const redis = redisUrl ? new RedisConnection(redisUrl, 'bench') : undefined;

@Injectable()
class EchoTools {
  @McpTool({ name: 'echo', description: 'echo', scopes: ['read'], input: z.object({ text: z.string().max(1000) }) })
  echo(input: { text: string }) {
    return input.text;
  }
}

@Module({
  imports: [
    AuthModule.forRoot({
      ...(flag('--no-auth') ? { mode: 'disabled' as const } : { secret }),
      // The harness's ISSUER: its tokens say this.
      issuer: 'http://127.0.0.1:8679',
      allowedIssuers: ['http://127.0.0.1:8679'],
      audiences: ['bench'],
      verificationCache: { enabled: !flag('--no-cache') },
      requireSignedRequests: flag('--signed') ? 'all' : 'off',
      // Only for the replay-window experiment in docs/benchmarks.md; the default is the product's.
      ...(process.env['BENCH_SIG_WINDOW'] ? { signatureMaxAgeSeconds: Number(process.env['BENCH_SIG_WINDOW']) } : {}),
      failureThrottle: false,
      ...(redis ? { nonceStore: new RedisNonceStore(redis.client, { lossGuardMs: (Number(process.env['BENCH_SIG_WINDOW'] ?? 300) + 30) * 1000 }) } : {}),
    }),
    McpServerModule.forRoot({
      name: 'bench',
      version: '1.0.0',
      resourceUrl: `http://127.0.0.1:${port}/mcp`,
      authorizationServers: ['http://127.0.0.1'],
      stateless: flag('--stateless'),
      responseMode: flag('--sse') ? 'sse' : 'json',
    }),
  ],
  providers: [EchoTools],
})
class BenchModule {}

void startMcpApplication(BenchModule, () => ({ host: '127.0.0.1', port }), []).then((app) => {
  const address = app?.getHttpServer().address() as { port: number } | undefined;
  process.stdout.write(`listening ${address?.port ?? port}\n`);
});
