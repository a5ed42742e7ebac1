import { Injectable } from '@nestjs/common';

/**
 * Counts MCP requests whose handlers are still running, so a shutdown can
 * wait for them (a graceful drain) before the database and Redis close under
 * them. A handler keeps running after its client went away, so counting open
 * connections would not do.
 */
@Injectable()
export class InFlightRequests {
  private count = 0;
  private idle: Array<() => void> = [];

  /** Runs `work` as one in-flight request. */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.count++;
    try {
      return await work();
    } finally {
      this.count--;
      if (this.count === 0) for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  get size(): number {
    return this.count;
  }

  /** Resolves true once nothing is in flight, or false after `timeoutMs`. */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      this.idle.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
