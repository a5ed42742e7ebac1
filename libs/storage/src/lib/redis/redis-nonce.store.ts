import { createHash, randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { NonceStore, NonceVerdict } from '@crossauth/auth';

export interface RedisNonceStoreOptions {
  /**
   * The longest any nonce is remembered (the signature window plus the clock
   * skew, or the longest assertion lifetime, whichever is longer). After Redis
   * is found to have lost its memory, every nonce is refused as `unavailable`
   * for this long: any nonce accepted before the loss has left its window by then.
   */
  readonly lossGuardMs: number;
  /** Key prefix; the epoch marker and the guard live under it too. */
  readonly prefix?: string;
}

// KEYS: nonce, epoch marker, guard. ARGV: nonce ttl ms (0: only check), the
// epoch this instance knows ('' when none yet), a new epoch value, guard ms.
// A missing marker, or one other than the epoch this instance knew, means
// Redis lost its memory (a restart without persistence, a flush, a failover
// to an empty replica): the guard is set for everyone, and while it lasts no
// nonce is accepted. One script, so the check and the SET are atomic.
const REMEMBER = `
local current = redis.call('GET', KEYS[2])
if not current then
  redis.call('SET', KEYS[2], ARGV[3])
  current = ARGV[3]
end
if ARGV[2] ~= '' and current ~= ARGV[2] then
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[4], 'NX')
end
local guard = redis.call('PTTL', KEYS[3])
if guard > 0 then return {current, 'guard', guard} end
if ARGV[1] == '0' then return {current, 'checked', 0} end
if redis.call('SET', KEYS[1], '1', 'PX', ARGV[1], 'NX') then return {current, 'fresh', 0} end
return {current, 'replayed', 0}
`;

type ScriptReply = [epoch: string, outcome: 'guard' | 'checked' | 'fresh' | 'replayed', guardMs: number];
type WithRemember = Redis & {
  crossauthRememberNonce(
    nonceKey: string,
    epochKey: string,
    guardKey: string,
    ttlMs: number,
    knownEpoch: string,
    newEpoch: string,
    guardMs: number,
  ): Promise<ScriptReply>;
};

/**
 * Nonces in Redis, shared by every instance: a nonce is set only if absent,
 * atomically, so of two instances seeing the same nonce exactly one gets
 * `fresh`. Keys are digests (an envelope's nonce is its signature). When Redis
 * cannot answer the verdict is `unavailable`: the request is refused, never
 * let through unchecked.
 *
 * A Redis that restarts empty knows none of the nonces it held, so a request
 * accepted before would be accepted again. An epoch marker, a key with no
 * expiry, tells: each instance remembers the marker it saw, and finding it
 * gone or replaced means the memory was lost; then a guard key refuses every
 * nonce, on every instance, for one window. An instance that starts after the
 * loss and before anyone noticed cannot tell (it knew no marker): persistence
 * (`appendonly yes`) is what closes that gap. Auto-pipelining batches
 * concurrent checks into one round trip.
 */
export class RedisNonceStore implements NonceStore {
  private readonly logger = new Logger(RedisNonceStore.name);
  private readonly redis: WithRemember;
  private readonly prefix: string;
  private readonly lossGuardMs: number;
  private epoch = '';
  /** Until when this instance refuses without asking (ms); the guard key is the shared truth. */
  private guardUntilMs = 0;

  constructor(redis: Redis, options: RedisNonceStoreOptions) {
    this.prefix = options.prefix ?? 'crossauth:nonce:';
    this.lossGuardMs = Math.ceil(options.lossGuardMs);
    if (!(this.lossGuardMs > 0)) throw new Error('RedisNonceStore: lossGuardMs must be positive');
    const scripted = redis as unknown as WithRemember;
    if (typeof scripted.crossauthRememberNonce !== 'function') redis.defineCommand('crossauthRememberNonce', { numberOfKeys: 3, lua: REMEMBER });
    this.redis = scripted;
    // A reconnect is when a restart shows: check at once rather than at the next signed request.
    redis.on('ready', () => void this.run('', 0).catch(() => undefined));
  }

  remember(nonce: string, expiresAtMs: number, nowMs: number = Date.now()): NonceVerdict | Promise<NonceVerdict> {
    const ttlMs = Math.ceil(expiresAtMs - nowMs);
    // Past its window the signature is refused anyway; same answer as the in-memory store.
    if (ttlMs <= 0) return 'replayed';
    if (this.redis.status !== 'ready' || nowMs < this.guardUntilMs) return 'unavailable';
    return this.run(`${this.prefix}${createHash('sha256').update(nonce).digest('base64url')}`, ttlMs).then(
      (outcome) => (outcome === 'fresh' || outcome === 'replayed' ? outcome : 'unavailable'),
      () => 'unavailable',
    );
  }

  private async run(nonceKey: string, ttlMs: number): Promise<ScriptReply[1]> {
    const fresh = `${Date.now()}:${randomBytes(12).toString('base64url')}`;
    const [epoch, outcome, guardMs] = await this.redis.crossauthRememberNonce(
      nonceKey || `${this.prefix}check`,
      `${this.prefix}epoch`,
      `${this.prefix}memory-lost-guard`,
      ttlMs,
      this.epoch,
      fresh,
      this.lossGuardMs,
    );
    if (this.epoch !== '' && epoch !== this.epoch) this.logger.error({ event: 'nonce_store_memory_lost', guardSeconds: Math.ceil(Number(guardMs) / 1000) });
    this.epoch = epoch;
    if (outcome === 'guard') this.guardUntilMs = Math.max(this.guardUntilMs, Date.now() + Number(guardMs));
    return outcome;
  }
}
