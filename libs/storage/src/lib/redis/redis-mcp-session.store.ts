import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { McpSessionRecord, McpSessionStore } from '@crossauth/mcp-server';
import type { RedisConnection } from './redis-connection';

const PREFIX = 'crossauth:mcp-session:';
const CHANNEL = 'crossauth:mcp-session-removed';

/**
 * MCP session records in Redis with an idle expiry, and removals announced
 * over pub/sub. Session ids are unguessable bearer-like values: keys hold
 * their SHA-256, never the id.
 */
export class RedisMcpSessionStore implements McpSessionStore {
  private readonly logger = new Logger(RedisMcpSessionStore.name);
  private readonly listeners: Array<(id: string) => void> = [];

  constructor(private readonly redis: RedisConnection) {
    redis.subscriber.on('message', (channel: string, key: string) => {
      if (channel === CHANNEL) for (const listener of this.listeners) listener(key);
    });
    void redis.subscriber.subscribe(CHANNEL).catch(() => undefined);
  }

  async save(record: McpSessionRecord, idleMs: number): Promise<void> {
    const { id, ...rest } = record;
    await this.redis.client.set(PREFIX + this.keyOf(id), JSON.stringify(rest), 'PX', idleMs);
  }

  async find(id: string): Promise<McpSessionRecord | undefined> {
    const raw = await this.redis.client.get(PREFIX + this.keyOf(id));
    if (raw === null) return undefined;
    try {
      return { id, ...(JSON.parse(raw) as Omit<McpSessionRecord, 'id'>) };
    } catch {
      return undefined;
    }
  }

  touch(id: string, idleMs: number): void {
    this.redis.client.pexpire(PREFIX + this.keyOf(id), idleMs).catch(() => this.logger.debug({ event: 'mcp_session_touch_failed' }));
  }

  async remove(id: string): Promise<void> {
    const key = this.keyOf(id);
    await this.redis.client.del(PREFIX + key);
    await this.redis.client.publish(CHANNEL, key);
  }

  onRemoved(listener: (key: string) => void): void {
    this.listeners.push(listener);
  }

  keyOf(id: string): string {
    return createHash('sha256').update(id).digest('base64url');
  }
}
