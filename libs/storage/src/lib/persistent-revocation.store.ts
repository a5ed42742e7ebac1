import { Logger } from '@nestjs/common';
import { RevocationIndex, type Principal, type RevocationStore } from '@crossauth/auth';
import type { RevocationRepository, RevocationRow } from './revocation.repository';

/** How revocations made elsewhere reach this instance at once (Redis pub/sub when configured). */
export interface RevocationFanout {
  /** Tells every other instance; resolves once sent. */
  publish(row: RevocationRow): Promise<void>;
  /** Whether revocations from others are arriving now. */
  readonly connected: boolean;
  /** Registers the handler for revocations made elsewhere, and for reconnects (which may have missed some). */
  listen(handlers: { revoked: (row: RevocationRow) => void; reconnected: () => void }): void;
}

const PURGE_MS = 60_000;
// Without a fan-out (or while it is down) other instances' revocations are read from the database this often.
const POLL_MS = 1000;

/**
 * Revocations persisted in the database and mirrored in memory, so the request
 * path never waits on storage and a restart forgets nothing. With a fan-out,
 * a revocation made on any instance is in every instance's index within
 * milliseconds. With a shared database and no fan-out, or while the fan-out
 * is down, the index is re-read every second instead; while a configured
 * fan-out is down, verified tokens are not cached either. (A cache hit checks
 * the index again anyway; the bypass keeps the cache from outliving a gap.)
 */
export class PersistentRevocationStore implements RevocationStore {
  private readonly logger = new Logger(PersistentRevocationStore.name);
  private readonly index = new RevocationIndex();
  private readonly timers: NodeJS.Timeout[] = [];

  private constructor(
    private readonly repository: RevocationRepository,
    private readonly fanout: RevocationFanout | undefined,
    private readonly shared: boolean,
  ) {}

  /**
   * Loads every live revocation. `shared`: other instances write to the same
   * database (PostgreSQL), so their revocations must be picked up.
   */
  static async load(repository: RevocationRepository, options: { fanout?: RevocationFanout; shared: boolean }): Promise<PersistentRevocationStore> {
    const store = new PersistentRevocationStore(repository, options.fanout, options.shared);
    await store.reload();
    store.logger.log({ event: 'revocations_loaded', ...store.index.size, fanout: options.fanout ? 'redis' : 'none' });
    options.fanout?.listen({
      revoked: (row) => store.apply(row),
      reconnected: () => void store.reload().catch((error: unknown) => store.logger.warn({ event: 'revocations_reload_failed', error: String(error) })),
    });
    store.timers.push(setInterval(() => void store.purge(), PURGE_MS));
    if (options.shared) store.timers.push(setInterval(() => void store.pollIfNeeded(), POLL_MS));
    for (const t of store.timers) t.unref();
    return store;
  }

  isRevoked(principal: Principal): boolean {
    return this.index.isRevoked(principal);
  }

  /** A cached verification is only safe while revocations from every instance reach this one at once. */
  allowsCaching(): boolean {
    return this.fanout === undefined || this.fanout.connected;
  }

  /** Persists, applies, then tells the other instances: once this resolves, the token is refused here and after any restart. */
  async revokeToken(jti: string, expiresAt: number, by: string): Promise<void> {
    await this.revoke({ kind: 'token', value: jti, issuedBefore: null, expiresAt, revokedAt: nowSeconds(), revokedBy: by });
  }

  async revokeSubject(subject: string, issuedBefore: number, expiresAt: number, by: string): Promise<void> {
    await this.revoke({ kind: 'subject', value: subject, issuedBefore, expiresAt, revokedAt: nowSeconds(), revokedBy: by });
  }

  get size(): { tokens: number; subjects: number } {
    return this.index.size;
  }

  close(): void {
    for (const t of this.timers) clearInterval(t);
  }

  private async revoke(row: RevocationRow): Promise<void> {
    await this.repository.upsert(row);
    this.apply(row);
    // The database has it; an instance that misses the message reads it on its next poll or reconnect.
    await this.fanout?.publish(row).catch((error: unknown) => this.logger.warn({ event: 'revocation_fanout_failed', error: String(error) }));
  }

  private apply(row: RevocationRow): void {
    if (row.kind === 'token') this.index.addToken(row.value, row.expiresAt);
    else this.index.addSubject(row.value, row.issuedBefore ?? 0, row.expiresAt);
  }

  private async reload(): Promise<void> {
    for (const row of await this.repository.live(nowSeconds())) this.apply(row);
  }

  private async pollIfNeeded(): Promise<void> {
    if (this.fanout?.connected) return;
    await this.reload().catch(() => undefined);
  }

  private async purge(): Promise<void> {
    const now = nowSeconds();
    this.index.purge(now);
    await this.repository.purge(now).catch(() => undefined);
  }
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
