/**
 * Remembers request-signature nonces until their signature could no longer be
 * accepted anyway (its `created` has left the window). `remember` returns false
 * when the nonce was already seen: a replay.
 */
export interface NonceStore {
  remember(nonce: string, expiresAtMs: number, nowMs?: number): boolean;
}

/** In-process {@link NonceStore}: a map with expiry, bounded in size. */
export class MemoryNonceStore implements NonceStore {
  private readonly seen = new Map<string, number>();
  private lastSweep = 0;

  constructor(private readonly maxEntries = 1_000_000) {}

  remember(nonce: string, expiresAtMs: number, nowMs: number = Date.now()): boolean {
    if (nowMs - this.lastSweep > 10_000 || this.seen.size >= this.maxEntries) this.sweep(nowMs);
    const known = this.seen.get(nonce);
    if (known !== undefined && known > nowMs) return false;
    // Full even after a sweep: refuse rather than forget a nonce still inside its window.
    if (this.seen.size >= this.maxEntries) return false;
    this.seen.set(nonce, expiresAtMs);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(nowMs: number): void {
    this.lastSweep = nowMs;
    for (const [nonce, expiresAt] of this.seen) if (expiresAt <= nowMs) this.seen.delete(nonce);
  }
}
