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

// Copies go through one reused buffer: Buffer.from per nonce kept replacing
// Node's Buffer pool (~1.8 µs per signed request in the server's profile).
const COPY_CHARS = 1024;
const copyBuffer = Buffer.alloc(COPY_CHARS * 2);

/** A string with the same text that shares no memory with `text` (UTF-16 round-trips any string). */
function ownCopy(text: string): string {
  if (text.length > COPY_CHARS) return Buffer.from(text, 'utf16le').toString('utf16le');
  return copyBuffer.toString('utf16le', 0, copyBuffer.write(text, 0, 'utf16le'));
}

/** Forgotten per `remember` call while expired buckets drain: far above any arrival rate, and no call pays for a whole bucket. */
const DRAIN_PER_CALL = 64;

/**
 * In-process {@link NonceStore}, bounded in size. One set answers "seen?" in a
 * single lookup whatever the window; nonces are also listed by expiry bucket,
 * and a bucket whose end has passed is forgotten a few entries per call. That
 * replaces a sweep over every entry (hundreds of thousands at a few thousand
 * signed calls a second) with bounded work per call, at the price of keeping
 * a nonce up to `bucketMs` (plus the drain) past its expiry.
 */
export class MemoryNonceStore implements NonceStore {
  private readonly seen = new Set<string>();
  // Bucket index (floor(expiry / bucketMs)) → nonces expiring in it, oldest bucket first.
  private readonly buckets = new Map<number, string[]>();
  // Expired buckets' nonces still to be forgotten, and how far each has been drained.
  private readonly draining: string[][] = [];
  private drained = 0;

  constructor(
    private readonly maxEntries = 1_000_000,
    private readonly bucketMs = 30_000,
  ) {}

  remember(nonce: string, expiresAtMs: number, nowMs: number = Date.now()): NonceVerdict {
    if (expiresAtMs <= nowMs) return 'replayed';
    this.expire(nowMs);
    this.drain(DRAIN_PER_CALL);
    if (this.seen.has(nonce)) return 'replayed';
    // Forgetting a nonce still inside its window would reopen it to replay. (While
    // expired nonces are still draining this cannot be reached: each call drains more
    // than it adds, so a drain in progress has already made room.)
    if (this.seen.size >= this.maxEntries) return 'full';
    const index = Math.floor(expiresAtMs / this.bucketMs);
    let bucket = this.buckets.get(index);
    if (!bucket) {
      bucket = [];
      this.buckets.set(index, bucket);
      if (this.buckets.size > 1) this.reorder();
    }
    // Keep our own copy. A nonce cut from a header by a regex is a slice of that
    // header string (and `keyid:nonce` a rope over it), so keeping the caller's
    // string would pin the whole header: 325 bytes per nonce measured, 93 for a
    // copy, which is ~230 MB at the 1,000,000 bound.
    const own = ownCopy(nonce);
    bucket.push(own);
    this.seen.add(own);
    return 'fresh';
  }

  /** Nonces currently remembered (including ones at most `bucketMs` past expiry, and expired ones not yet drained). */
  get size(): number {
    return this.seen.size;
  }

  /** Moves buckets whose end has passed to the drain queue. */
  private expire(nowMs: number): void {
    // A bucket's entries all expire by its end; Map order is oldest first (see reorder).
    for (const [index, bucket] of this.buckets) {
      if ((index + 1) * this.bucketMs > nowMs) return;
      this.draining.push(bucket);
      this.buckets.delete(index);
    }
  }

  private drain(budget: number): void {
    while (budget > 0 && this.draining.length > 0) {
      const bucket = this.draining[0] as string[];
      const end = Math.min(bucket.length, this.drained + budget);
      for (let i = this.drained; i < end; i++) this.seen.delete(bucket[i] as string);
      budget -= end - this.drained;
      this.drained = end;
      if (end === bucket.length) {
        this.draining.shift();
        this.drained = 0;
      }
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
