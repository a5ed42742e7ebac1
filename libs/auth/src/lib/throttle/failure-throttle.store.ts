import { ThrottlerStorageService } from '@nestjs/throttler';

/** The auth-failure rule: `limit` failures per `windowSeconds`, then blocked for `blockSeconds`. */
export interface FailureRule {
  readonly limit: number;
  readonly windowSeconds: number;
  readonly blockSeconds: number;
}

/**
 * Where auth failures are counted. The blocked check is on every request, so
 * it answers synchronously from this process's memory; counting may wait.
 */
export interface FailureThrottleStore {
  /** Counts one failure of `client`; resolves to how long it is now blocked (0: not blocked) and its count. */
  increment(client: string): Promise<{ blockedForMs: number; failures: number }>;
  /** How long `client` is still blocked, as far as this process knows (0: not blocked). */
  blockedForMs(client: string, nowMs: number): number;
  close(): void | Promise<void>;
}

const THROTTLER = 'auth-failures';

/** {@link FailureThrottleStore} in this process (`@nestjs/throttler`'s storage): one instance's count. */
export class MemoryFailureThrottleStore implements FailureThrottleStore {
  private readonly storage = new ThrottlerStorageService();

  constructor(private readonly rule: FailureRule) {}

  async increment(client: string): Promise<{ blockedForMs: number; failures: number }> {
    const { limit, windowSeconds, blockSeconds } = this.rule;
    const record = await this.storage.increment(`${THROTTLER}:${client}`, windowSeconds * 1000, limit, blockSeconds * 1000, THROTTLER);
    return { blockedForMs: record.isBlocked ? record.timeToBlockExpire * 1000 : 0, failures: record.totalHits };
  }

  blockedForMs(client: string, nowMs: number): number {
    const record = this.storage.storage.get(`${THROTTLER}:${client}`);
    return record?.isBlocked && record.blockExpiresAt > nowMs ? record.blockExpiresAt - nowMs : 0;
  }

  close(): void {
    this.storage.onApplicationShutdown();
  }
}
