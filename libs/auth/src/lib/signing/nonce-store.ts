import { randomFillSync } from 'node:crypto';

/**
 * What {@link NonceStore.remember} found: `fresh` (now remembered), `replayed`
 * (seen inside its window, or already expired), `full` (the store is at its
 * bound and will not forget a live nonce to make room) or `unavailable` (a
 * shared store cannot be reached). For the last two the caller answers "try
 * later", never "replay", and never lets the request through.
 */
export type NonceVerdict = 'fresh' | 'replayed' | 'full' | 'unavailable';

/**
 * Remembers request-signature nonces until their signature could no longer be
 * accepted anyway (its `created` has left the window). In-process stores
 * answer at once; a shared one (Redis) answers with a promise.
 */
export interface NonceStore {
  remember(nonce: string, expiresAtMs: number, nowMs?: number): NonceVerdict | Promise<NonceVerdict>;
}

// Slots are three uint32s: the nonce's 64-bit fingerprint (two halves, 0/0 =
// empty) and its expiry in whole seconds, rounded up so a nonce is never
// forgotten early. Interleaved so a probe touches one cache line.
const SLOT = 3;
const MIN_CAPACITY = 1024;
/** Old-table slots moved per call at least, while a rebuild is in progress. */
const MOVE_PER_CALL = 64;
/** Slots moved per call while the store is at its bound (about a millisecond's work at most). */
const MOVE_AT_BOUND = 16_384;

/** One open-addressing table (linear probing) of fingerprints and expiries. */
class FingerprintTable {
  readonly slots: Uint32Array;
  private readonly mask: number;
  /** Occupied slots, live or expired. */
  used = 0;
  /** No entry here expires before this (s): a rebuild before then would free nothing. */
  earliestExpirySeconds = Infinity;

  constructor(readonly capacity: number) {
    this.slots = new Uint32Array(capacity * SLOT);
    this.mask = capacity - 1;
  }

  /** Offset of the slot holding fingerprint a/b, or of the empty slot where it would go. */
  find(a: number, b: number): number {
    const slots = this.slots;
    let slot = a & this.mask;
    // The store keeps every table at most half full; the bound only turns a bug into an error instead of a hang.
    for (let probes = 0; probes < this.capacity; probes++) {
      const i = slot * SLOT;
      const x = slots[i] as number;
      const y = slots[i + 1] as number;
      if ((x === 0 && y === 0) || (x === a && y === b)) return i;
      slot = (slot + 1) & this.mask;
    }
    throw new Error('nonce table full');
  }

  occupied(i: number): boolean {
    return this.slots[i] !== 0 || this.slots[i + 1] !== 0;
  }

  /** Whether the slot at `i` holds an entry that has not expired. */
  liveAt(i: number, nowSeconds: number): boolean {
    return this.occupied(i) && (this.slots[i + 2] as number) > nowSeconds;
  }

  /** Fills the empty slot at `i` (from {@link find}). */
  put(i: number, a: number, b: number, expirySeconds: number): void {
    this.slots[i] = a;
    this.slots[i + 1] = b;
    this.used++;
    this.renew(i, expirySeconds);
  }

  /** Sets the expiry of the entry at `i`. */
  renew(i: number, expirySeconds: number): void {
    this.slots[i + 2] = expirySeconds;
    this.earliestExpirySeconds = Math.min(this.earliestExpirySeconds, expirySeconds);
  }
}

/**
 * In-process {@link NonceStore}, bounded in size, holding no JavaScript object
 * per nonce.
 *
 * Each nonce is kept as a 64-bit fingerprint (two 32-bit hashes of its text,
 * seeded at random per store) with its expiry, in an open-addressing table
 * (linear probing) of typed arrays. An earlier version kept each nonce as a
 * string in a Set, with lists by expiry bucket: one heap object and ~75 bytes
 * per nonce, up to a million of them for the GC to mark on every major
 * collection. Measured with a million live nonces: 261 MB of heap then, 4 MB
 * now (the table is off-heap); ~1.3 µs per call then, ~0.4 now.
 *
 * Expired entries stay where they are (a probe walks past them) until the
 * table is half full, or the store at its bound. Then a table four times the
 * live count (estimated from a sample) takes over and the live entries move
 * across a few dozen slots per call, the old table answering lookups until it
 * is empty. Rebuilt at once, the worst call took 77 ms at 870,000 live nonces;
 * moved this way, 14 ms (the old Set: 53 ms). At the 1,000,000 bound a table
 * is at most 2^22 slots (48 MiB), two of them while a move is in progress.
 *
 * Two nonces are confused only if their fingerprints collide: for a fresh nonce
 * against 1,000,000 stored ones, ~5 × 10^-14 (n / 2^64), so a false
 * "replayed" is not expected in the life of a deployment. The seed keeps
 * anyone from choosing nonces that collide on purpose; they could not predict
 * honest signers' random nonces in any case.
 */
export class MemoryNonceStore implements NonceStore {
  private readonly seeds = randomFillSync(new Int32Array(2));
  private readonly maxCapacity: number;
  private table = new FingerprintTable(MIN_CAPACITY);
  /** The previous table while its live entries move to `table`. */
  private retiring: FingerprintTable | undefined;
  /** Offset in `retiring` up to which entries have moved. */
  private moved = 0;

  /** @param maxEntries live nonces held at most; past it, `full`. */
  constructor(private readonly maxEntries = 1_000_000) {
    this.maxCapacity = Math.max(MIN_CAPACITY, nextPowerOfTwo(maxEntries * 4));
  }

  remember(nonce: string, expiresAtMs: number, nowMs: number = Date.now()): NonceVerdict {
    if (expiresAtMs <= nowMs) return 'replayed';
    // Two 32-bit hashes over the UTF-16 code units: FNV-1a and a Murmur3-style
    // round, each finished with Murmur3's fmix32.
    let a = this.seeds[0] as number;
    let b = this.seeds[1] as number;
    for (let i = 0; i < nonce.length; i++) {
      const c = nonce.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b ^= Math.imul(c, 0xcc9e2d51);
      b = (Math.imul((b << 13) | (b >>> 19), 5) + 0xe6546b64) | 0;
    }
    a = fmix32(a ^ nonce.length);
    b = fmix32(b ^ nonce.length);
    if (a === 0 && b === 0) b = 1; // 0/0 marks an empty slot
    const expirySeconds = Math.ceil(expiresAtMs / 1000);
    const nowSeconds = nowMs / 1000;
    if (this.retiring) this.move(nowSeconds, this.moveBudget(this.retiring));

    const i = this.table.find(a, b);
    if (this.table.occupied(i)) {
      // Seen. Still live: a replay, whatever expiry it claims now. Expired: the
      // same nonce in a later signature (a freshness check refuses a re-sent one
      // before the store is asked), so it starts a new life in the same slot.
      if (this.table.liveAt(i, nowSeconds)) return 'replayed';
      this.table.renew(i, expirySeconds);
      return 'fresh';
    }
    // Not moved yet. An expired copy is left behind: moving skips expired entries.
    if (this.retiring?.liveAt(this.retiring.find(a, b), nowSeconds)) return 'replayed';
    if (this.size >= this.maxEntries) {
      // Forgetting a nonce still inside its window would reopen it to replay, so
      // when every entry held may be live the answer is `full`. Once something
      // can have expired, a rebuild drops the expired entries as it moves; while
      // the store is at its bound the move goes faster (about a millisecond of
      // work per call), never one stall over a million entries.
      if (!this.retiring) {
        if (nowSeconds < this.table.earliestExpirySeconds) return 'full';
        this.rebuild(nowSeconds);
      }
      this.move(nowSeconds, MOVE_AT_BOUND);
      if (this.size >= this.maxEntries) return 'full';
    }
    if ((this.table.used + 1) * 2 > this.table.capacity) this.rebuild(nowSeconds);
    this.table.put(this.table.find(a, b), a, b, expirySeconds);
    return 'fresh';
  }

  /** Nonces held: the live ones, plus expired ones not yet dropped by a rebuild. Never below the live count. */
  get size(): number {
    return this.table.used + (this.retiring ? this.retiring.used : 0);
  }

  /** Starts moving the live entries to a new table four times their number (within bounds). */
  private rebuild(nowSeconds: number): void {
    if (this.retiring) this.move(nowSeconds, Infinity);
    const old = this.table;
    this.table = new FingerprintTable(Math.min(this.maxCapacity, Math.max(MIN_CAPACITY, nextPowerOfTwo(estimateLive(old, nowSeconds) * 4))));
    this.retiring = old;
    this.moved = 0;
  }

  /**
   * Slots of `retiring` to move per call. The new table holds at least four times
   * the live entries; finishing the move within a quarter of its capacity in
   * calls keeps it under half full.
   */
  private moveBudget(retiring: FingerprintTable): number {
    return Math.max(MOVE_PER_CALL, Math.ceil((retiring.capacity * 4) / this.table.capacity));
  }

  /** Moves the live entries of up to `budget` slots of the retiring table. */
  private move(nowSeconds: number, budget: number): void {
    const old = this.retiring as FingerprintTable;
    const from = old.slots;
    const end = Math.min(from.length, this.moved + budget * SLOT);
    for (let i = this.moved; i < end; i += SLOT) {
      const a = from[i] as number;
      const b = from[i + 1] as number;
      if (a === 0 && b === 0) continue;
      old.used--;
      const expiry = from[i + 2] as number;
      if (expiry <= nowSeconds) continue;
      const j = this.table.find(a, b);
      // Never there already (a live entry here refuses its own re-insertion);
      // checked so that nothing can hold one fingerprint twice.
      if (this.table.occupied(j)) continue;
      this.table.put(j, a, b, expiry);
    }
    this.moved = end;
    if (end === from.length) this.retiring = undefined;
  }
}

const SAMPLE_SLOTS = 8_192;

/**
 * How many live entries a table holds, from up to 8,192 slots spread over it
 * (the hash places entries uniformly, whatever their expiry), with a margin.
 * Counting them all would be the stall the incremental move avoids; sizing by
 * the occupied count would double the table at every rebuild however few were
 * live. Never above `used`, which bounds the live count.
 */
function estimateLive(table: FingerprintTable, nowSeconds: number): number {
  const stride = Math.max(1, table.capacity / SAMPLE_SLOTS);
  let live = 0;
  for (let slot = 0; slot < table.capacity; slot += stride) if (table.liveAt(slot * SLOT, nowSeconds)) live++;
  // A small table is counted whole, so exactly.
  return stride === 1 ? live : Math.min(table.used, Math.ceil(live * stride * 1.25) + 1_024);
}

/** Murmur3's 32-bit finaliser: every input bit moves every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function nextPowerOfTwo(n: number): number {
  return n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n));
}
