import type { Redis } from 'ioredis';
import { sha256 } from '../crypto/sha256';
import type { NonceStore, NonceVerdict } from './nonce-store';

/**
 * Nonces in Redis, shared by every instance: `SET key 1 PX <window> NX` is
 * atomic, so of two instances seeing the same nonce exactly one gets `fresh`.
 * Keys are digests (an envelope's nonce is its signature). When Redis cannot
 * answer the verdict is `unavailable`: the request is refused, never let
 * through unchecked. Auto-pipelining batches concurrent checks into one round trip.
 */
export class RedisNonceStore implements NonceStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'crossauth:nonce:',
  ) {}

  remember(nonce: string, expiresAtMs: number, nowMs: number = Date.now()): NonceVerdict | Promise<NonceVerdict> {
    const ttlMs = Math.ceil(expiresAtMs - nowMs);
    // Past its window the signature is refused anyway; same answer as the in-memory store.
    if (ttlMs <= 0) return 'replayed';
    if (this.redis.status !== 'ready') return 'unavailable';
    return this.redis.set(`${this.prefix}${sha256(nonce, 'base64url')}`, '1', 'PX', ttlMs, 'NX').then(
      (reply) => (reply === 'OK' ? 'fresh' : 'replayed'),
      () => 'unavailable',
    );
  }
}
