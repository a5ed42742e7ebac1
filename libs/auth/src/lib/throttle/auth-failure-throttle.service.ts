import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { AUTH_OPTIONS } from '../auth.constants';
import type { ResolvedAuthOptions } from '../auth-options';
import { MemoryFailureThrottleStore, type FailureThrottleStore } from './failure-throttle.store';

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
 * Counted in this process by default, or across instances by the store the
 * options give (Redis).
 */
@Injectable()
export class AuthFailureThrottleService implements OnApplicationShutdown {
  private readonly logger = new Logger('AuthFailureThrottle');
  private readonly store: FailureThrottleStore | undefined;

  constructor(@Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions) {
    const rule = options.failureThrottle;
    this.store = rule ? (options.failureThrottleStore?.(rule) ?? new MemoryFailureThrottleStore(rule)) : undefined;
  }

  /** Throws {@link AuthThrottledError} while `client` is blocked. */
  assertNotBlocked(client: string | undefined): void {
    if (!client || !this.store) return;
    const ms = this.store.blockedForMs(client, Date.now());
    if (ms > 0) throw new AuthThrottledError(Math.max(1, Math.ceil(ms / 1000)));
  }

  /** Counts one failure; logs when the address becomes blocked. */
  async recordFailure(client: string | undefined): Promise<void> {
    const rule = this.options.failureThrottle;
    if (!client || !rule || !this.store) return;
    const { blockedForMs, failures } = await this.store.increment(client);
    if (blockedForMs > 0 && failures === rule.limit + 1) {
      this.logger.warn({ event: 'auth_throttled', client, failures, blockSeconds: rule.blockSeconds });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store?.close();
  }
}
