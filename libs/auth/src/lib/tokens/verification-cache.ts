import { LRUCache } from 'lru-cache';
import type { Principal } from '../principal';

/**
 * Verified tokens, keyed by the full token string (so a hit means the exact
 * bytes were verified before) and bounded by entries and total key size. An
 * entry never outlives its token: its TTL ends at `exp` (plus allowed skew).
 */
export class VerificationCache {
  private readonly lru: LRUCache<string, Principal>;
  private hitCount = 0;
  private missCount = 0;

  constructor(maxEntries: number) {
    this.lru = new LRUCache<string, Principal>({
      max: Math.max(1, maxEntries),
      // Bound memory even when tokens are near the size limit.
      maxSize: Math.max(1, maxEntries) * 1024,
      sizeCalculation: (_value, key) => Math.max(1, key.length),
      ttlAutopurge: false,
    });
  }

  get(token: string): Principal | undefined {
    const hit = this.lru.get(token);
    if (hit) this.hitCount++;
    else this.missCount++;
    return hit;
  }

  set(token: string, principal: Principal, ttlMs: number): void {
    if (ttlMs > 0) this.lru.set(token, principal, { ttl: ttlMs });
  }

  /** Drops every entry whose principal matches; used by revocation. Returns how many. */
  evict(matches: (principal: Principal) => boolean): number {
    let evicted = 0;
    for (const [token, principal] of this.lru.entries()) {
      if (matches(principal)) {
        this.lru.delete(token);
        evicted++;
      }
    }
    return evicted;
  }

  clear(): void {
    this.lru.clear();
  }

  get stats(): { size: number; hits: number; misses: number; hitRatio: number } {
    const total = this.hitCount + this.missCount;
    return { size: this.lru.size, hits: this.hitCount, misses: this.missCount, hitRatio: total ? this.hitCount / total : 0 };
  }
}
