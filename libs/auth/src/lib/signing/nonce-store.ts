/**
 * What {@link NonceStore.remember} found: `fresh` (now remembered), `replayed`
 * (seen inside its window, or already expired) or `full` (the store is at its
 * bound and will not forget a live nonce to make room; the caller should answer
 * "try later", not "replay").
 */
export type NonceVerdict = 'fresh' | 'replayed' | 'full';

/**
 * Remembers request-signature nonces until their signature could no longer be
 * accepted anyway (its `created` has left the window).
 */
export interface NonceStore {
  remember(nonce: string, expiresAtMs: number, nowMs?: number): NonceVerdict;
}

/**
 * In-process {@link NonceStore}, bounded in size. Nonces are grouped into
 * buckets by expiry time; a bucket is dropped whole once everything in it has
 * expired. That replaces a sweep over every entry (hundreds of thousands at a
 * few thousand signed calls a second) with an O(1) drop, at the price of
 * keeping a nonce up to `bucketMs` past its expiry.
 */
export class MemoryNonceStore implements NonceStore {
  // Bucket index (floor(expiry / bucketMs)) → nonces expiring in it, oldest bucket first.
  private readonly buckets = new Map<number, Set<string>>();
  private count = 0;

  constructor(
    private readonly maxEntries = 1_000_000,
    private readonly bucketMs = 30_000,
  ) {}

  remember(nonce: string, expiresAtMs: number, nowMs: number = Date.now()): NonceVerdict {
    if (expiresAtMs <= nowMs) return 'replayed';
    this.dropExpired(nowMs);
    for (const bucket of this.buckets.values()) if (bucket.has(nonce)) return 'replayed';
    // Forgetting a nonce still inside its window would reopen it to replay.
    if (this.count >= this.maxEntries) return 'full';
    const index = Math.floor(expiresAtMs / this.bucketMs);
    let bucket = this.buckets.get(index);
    if (!bucket) {
      bucket = new Set();
      this.buckets.set(index, bucket);
      if (this.buckets.size > 1) this.reorder();
    }
    bucket.add(nonce);
    this.count++;
    return 'fresh';
  }

  /** Nonces currently remembered (including ones at most `bucketMs` past expiry). */
  get size(): number {
    return this.count;
  }

  private dropExpired(nowMs: number): void {
    // A bucket's entries all expire by its end; Map order is oldest first (see reorder).
    for (const [index, bucket] of this.buckets) {
      if ((index + 1) * this.bucketMs > nowMs) return;
      this.count -= bucket.size;
      this.buckets.delete(index);
    }
  }

  /** Keeps buckets in expiry order; a new bucket is usually the latest, so this rarely moves anything. */
  private reorder(): void {
    const indexes = [...this.buckets.keys()];
    if (indexes.every((value, i) => i === 0 || (indexes[i - 1] as number) < value)) return;
    const sorted = [...this.buckets.entries()].sort((a, b) => a[0] - b[0]);
    this.buckets.clear();
    for (const [index, bucket] of sorted) this.buckets.set(index, bucket);
  }
}
