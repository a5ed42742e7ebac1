import { Logger } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RedisConnection } from './redis-connection';
import type { FailureRule, FailureThrottleStore } from '@crossauth/auth';

const CHANNEL = 'crossauth:auth-blocks';

/**
 * Auth failures counted in Redis across every instance (`rate-limiter-flexible`),
 * so the limit holds for the deployment, not per instance. A block is
 * announced over pub/sub and kept in each instance's memory, so the blocked
 * check stays a map lookup. While Redis is away, counting falls back to this
 * process's memory (the limiter's insurance): auth goes on, throttled per instance.
 */
export class RedisFailureThrottleStore implements FailureThrottleStore {
  private readonly logger = new Logger(RedisFailureThrottleStore.name);
  private readonly limiter: RateLimiterRedis;
  private readonly blocked = new Map<string, number>();
  private readonly onMessage = (channel: string, message: string) => {
    if (channel !== CHANNEL) return;
    const [client, until] = splitBlock(message);
    if (client && until > Date.now()) this.blocked.set(client, until);
  };

  constructor(
    private readonly redis: RedisConnection,
    rule: FailureRule,
  ) {
    const shape = { points: rule.limit, duration: rule.windowSeconds, blockDuration: rule.blockSeconds };
    this.limiter = new RateLimiterRedis({
      storeClient: redis.client,
      keyPrefix: 'crossauth:auth-failures',
      ...shape,
      insuranceLimiter: new RateLimiterMemory(shape),
    });
    redis.subscriber.on('message', this.onMessage);
    void redis.subscriber.subscribe(CHANNEL).catch(() => undefined);
  }

  async increment(client: string): Promise<{ blockedForMs: number; failures: number }> {
    try {
      const res = await this.limiter.consume(client);
      return { blockedForMs: 0, failures: res.consumedPoints };
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const until = Date.now() + rejection.msBeforeNext;
      this.blocked.set(client, until);
      await this.redis.client.publish(CHANNEL, `${until} ${client}`).catch(() => this.logger.warn({ event: 'auth_block_not_shared', client }));
      return { blockedForMs: rejection.msBeforeNext, failures: rejection.consumedPoints };
    }
  }

  blockedForMs(client: string, nowMs: number): number {
    const until = this.blocked.get(client);
    if (until === undefined) return 0;
    if (until > nowMs) return until - nowMs;
    this.blocked.delete(client);
    return 0;
  }

  close(): void {
    this.redis.subscriber.off('message', this.onMessage);
  }
}

function splitBlock(message: string): [string | undefined, number] {
  const space = message.indexOf(' ');
  if (space <= 0) return [undefined, 0];
  const until = Number(message.slice(0, space));
  return Number.isSafeInteger(until) ? [message.slice(space + 1), until] : [undefined, 0];
}
