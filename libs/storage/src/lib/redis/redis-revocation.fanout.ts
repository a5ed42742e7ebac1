import { Logger } from '@nestjs/common';
import type { RevocationFanout } from '../persistent-revocation.store';
import type { RevocationRow } from '../revocation.repository';
import type { RedisConnection } from './redis-connection';

const CHANNEL = 'crossauth:revocations';

/**
 * Revocations announced over Redis pub/sub, so every instance has one in its
 * index within milliseconds. The database stays the record: a message lost
 * while an instance was disconnected is read back when it reconnects.
 */
export class RedisRevocationFanout implements RevocationFanout {
  private readonly logger = new Logger(RedisRevocationFanout.name);

  constructor(private readonly redis: RedisConnection) {}

  get connected(): boolean {
    return this.redis.subscribed;
  }

  async publish(row: RevocationRow): Promise<void> {
    await this.redis.client.publish(CHANNEL, JSON.stringify(row));
  }

  listen(handlers: { revoked: (row: RevocationRow) => void; reconnected: () => void }): void {
    let seenReady = this.redis.subscribed;
    this.redis.subscriber.on('ready', () => {
      if (seenReady) handlers.reconnected();
      seenReady = true;
    });
    this.redis.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== CHANNEL) return;
      const row = parseRow(message);
      if (row) handlers.revoked(row);
      else this.logger.warn({ event: 'revocation_message_ignored', reason: 'malformed' });
    });
    void this.redis.subscriber.subscribe(CHANNEL).catch(() => undefined);
  }
}

function parseRow(message: string): RevocationRow | undefined {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  const r = value as Partial<Record<keyof RevocationRow, unknown>>;
  const isTime = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v);
  if ((r.kind !== 'token' && r.kind !== 'subject') || typeof r.value !== 'string' || !isTime(r.expiresAt)) return undefined;
  if (r.kind === 'subject' && !isTime(r.issuedBefore)) return undefined;
  return {
    kind: r.kind,
    value: r.value,
    issuedBefore: r.kind === 'subject' ? (r.issuedBefore as number) : null,
    expiresAt: r.expiresAt as number,
    revokedAt: isTime(r.revokedAt) ? (r.revokedAt as number) : 0,
    revokedBy: typeof r.revokedBy === 'string' ? r.revokedBy : 'unknown',
  };
}
