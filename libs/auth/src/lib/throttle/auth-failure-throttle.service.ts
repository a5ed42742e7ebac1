import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { AUTH_OPTIONS } from '../auth.constants';
import type { ResolvedAuthOptions } from '../auth-options';

const THROTTLER = 'auth-failures';

/** A client address that failed authentication too often, for `Retry-After` seconds. */
export class AuthThrottledError extends Error {
  override readonly name = 'AuthThrottledError';
  constructor(readonly retryAfterSeconds: number) {
    super('Too many failed authentication attempts; retry later');
  }
}

/**
 * Slows down guessing: after `limit` auth failures from one client address
 * within the window, that address gets `429` for `blockSeconds`. Only
 * failures count, so successful callers are never throttled by this.
 * Storage is `@nestjs/throttler`'s in-memory store.
 */
@Injectable()
export class AuthFailureThrottleService implements OnApplicationShutdown {
  private readonly logger = new Logger('AuthFailureThrottle');
  private readonly storage = new ThrottlerStorageService();

  constructor(@Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions) {}

  /** Throws {@link AuthThrottledError} while `client` is blocked. */
  assertNotBlocked(client: string | undefined): void {
    if (!client || !this.options.failureThrottle) return;
    const record = this.storage.storage.get(`${THROTTLER}:${client}`);
    if (record?.isBlocked && record.blockExpiresAt > Date.now()) {
      throw new AuthThrottledError(Math.max(1, Math.ceil((record.blockExpiresAt - Date.now()) / 1000)));
    }
  }

  /** Counts one failure; logs when the address becomes blocked. */
  async recordFailure(client: string | undefined): Promise<void> {
    const rule = this.options.failureThrottle;
    if (!client || !rule) return;
    const record = await this.storage.increment(`${THROTTLER}:${client}`, rule.windowSeconds * 1000, rule.limit, rule.blockSeconds * 1000, THROTTLER);
    if (record.isBlocked && record.totalHits === rule.limit + 1) {
      this.logger.warn({ event: 'auth_throttled', client, failures: record.totalHits, blockSeconds: rule.blockSeconds });
    }
  }

  onApplicationShutdown(): void {
    this.storage.onApplicationShutdown();
  }
}
