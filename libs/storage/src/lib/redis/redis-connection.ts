import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';

/**
 * One service's Redis: a command connection and, for pub/sub, a subscriber.
 * Commands never queue while Redis is away (they fail at once, so callers can
 * fail closed or fall back) and time out after a second; both connections
 * reconnect by themselves, every 2 s at most. The URL, which may carry a
 * password, is never logged.
 */
export class RedisConnection {
  private readonly logger = new Logger(RedisConnection.name);
  readonly client: Redis;
  readonly subscriber: Redis;
  private wasReady = false;

  constructor(url: string, name: string) {
    const options = {
      connectionName: name,
      enableAutoPipelining: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 1000,
      connectTimeout: 2000,
      retryStrategy: (times: number) => Math.min(times * 200, 2000),
    };
    this.client = new Redis(url, options);
    // The subscriber queues its SUBSCRIBE until connected and re-subscribes after a reconnect.
    this.subscriber = new Redis(url, {
      ...options,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      commandTimeout: undefined,
      enableAutoPipelining: false,
    });
    for (const [role, connection] of [
      ['commands', this.client],
      ['subscriber', this.subscriber],
    ] as const) {
      // Without a listener an unreachable Redis would crash the process; state changes are logged once each.
      connection.on('error', () => undefined);
      connection.on('ready', () => this.logger.log({ event: 'redis_ready', role }));
      connection.on('close', () => {
        if (role !== 'commands' || !this.wasReady) return;
        this.wasReady = false;
        this.logger.warn({ event: 'redis_lost', role });
      });
    }
    this.client.on('ready', () => (this.wasReady = true));
  }

  /**
   * Connects, waiting up to `waitMs` for Redis. A service starts even when
   * Redis is away (what needs it is refused or degrades until it is back).
   */
  static async open(url: string, name: string, waitMs = 5000): Promise<RedisConnection> {
    const connection = new RedisConnection(url, name);
    await connection.waitUntilReady(waitMs);
    return connection;
  }

  /** Whether commands can be sent now. */
  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /** Whether published messages reach this instance now. */
  get subscribed(): boolean {
    return this.subscriber.status === 'ready';
  }

  /** Resolves once both connections are up, or false after `timeoutMs`. */
  async waitUntilReady(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.ready && this.subscribed) return true;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.ready && this.subscribed;
  }

  async close(): Promise<void> {
    this.client.disconnect();
    this.subscriber.disconnect();
  }
}
