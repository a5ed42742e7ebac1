import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { MemoryNonceStore } from './nonce-store';

describe('MemoryNonceStore', () => {
  const t0 = 1_800_000_000_000;

  it('accepts a nonce once and refuses it again while it is live', () => {
    const store = new MemoryNonceStore();
    expect(store.remember('k:a', t0 + 300_000, t0)).toBe('fresh');
    expect(store.remember('k:a', t0 + 300_000, t0 + 1)).toBe('replayed');
    expect(store.remember('k:a', t0 + 300_000, t0 + 299_999)).toBe('replayed');
    expect(store.remember('k:b', t0 + 300_000, t0 + 2)).toBe('fresh');
  });

  it('refuses a replay even when it claims another expiry', () => {
    const store = new MemoryNonceStore(100);
    expect(store.remember('k:a', t0 + 5_000, t0)).toBe('fresh');
    expect(store.remember('k:a', t0 + 60_000, t0 + 10)).toBe('replayed');
  });

  it('refuses a nonce that has already expired', () => {
    expect(new MemoryNonceStore().remember('k:a', t0, t0)).toBe('replayed');
  });

  it('drops expired nonces when the table fills, keeping every live one', () => {
    const store = new MemoryNonceStore();
    // 511 short-lived nonces and one long-lived: the table (1024 slots) is then half full.
    for (let i = 0; i < 511; i++) expect(store.remember(`k:${i}`, t0 + 2_000, t0)).toBe('fresh');
    expect(store.remember('k:live', t0 + 60_000, t0)).toBe('fresh');
    expect(store.size).toBe(512);
    // After their expiry the next new nonce starts a rebuild that keeps the live one only,
    // moved a few dozen slots per call; lookups see both tables meanwhile.
    expect(store.remember('k:late', t0 + 60_000, t0 + 3_000)).toBe('fresh');
    expect(store.remember('k:live', t0 + 60_000, t0 + 3_001)).toBe('replayed');
    expect(store.remember('k:late', t0 + 60_000, t0 + 3_001)).toBe('replayed');
    expect(store.size).toBeGreaterThan(2);
    for (let i = 0; i < 20; i++) expect(store.remember(`k:next${i}`, t0 + 60_000, t0 + 3_002)).toBe('fresh');
    expect(store.size).toBe(22);
    expect(store.remember('k:live', t0 + 60_000, t0 + 3_003)).toBe('replayed');
    // Forgotten: a signature this old is refused for freshness before the store is asked.
    expect(store.remember('k:0', t0 + 9_000, t0 + 3_600)).toBe('fresh');
  });

  it('keeps a nonce at least until its expiry, across rebuilds that grow the table', () => {
    const store = new MemoryNonceStore();
    store.remember('k:far', t0 + 100_000, t0);
    store.remember('k:near', t0 + 2_000, t0);
    for (let i = 0; i < 5_000; i++) store.remember(`k:filler${i}`, t0 + 50_000, t0 + 1);
    expect(store.remember('k:near', t0 + 2_000, t0 + 1_999)).toBe('replayed');
    expect(store.remember('k:far', t0 + 100_000, t0 + 99_999)).toBe('replayed');
    expect(store.remember('k:filler4999', t0 + 50_000, t0 + 49_999)).toBe('replayed');
  });

  it('refuses new nonces when full rather than forgetting live ones', () => {
    const store = new MemoryNonceStore(3);
    for (const n of ['a', 'b', 'c']) expect(store.remember(`k:${n}`, t0 + 60_000, t0)).toBe('fresh');
    expect(store.remember('k:d', t0 + 60_000, t0)).toBe('full');
    expect(store.remember('k:d', t0 + 60_000, t0 + 59_999)).toBe('full');
    // A replay is still called a replay when the store is full.
    expect(store.remember('k:a', t0 + 60_000, t0)).toBe('replayed');
    // Room again once they have expired.
    expect(store.remember('k:d', t0 + 120_000, t0 + 61_000)).toBe('fresh');
  });

  it('is not full while its room is held only by expired nonces', () => {
    const store = new MemoryNonceStore(500);
    for (let i = 0; i < 500; i++) expect(store.remember(`k:${i}`, t0 + 1_500, t0)).toBe('fresh');
    expect(store.remember('k:x', t0 + 1_500, t0)).toBe('full');
    expect(store.remember('k:y', t0 + 60_000, t0 + 2_001)).toBe('fresh');
    expect(store.size).toBe(1);
  });

  it('at its bound with a big table, takes room from expired nonces as the rebuild moves, keeping live ones', () => {
    const store = new MemoryNonceStore(50_000);
    let fresh = 0;
    for (let i = 0; i < 49_000; i++) if (store.remember(`k:${i}`, t0 + 2_000, t0) === 'fresh') fresh++;
    for (let i = 0; i < 1_000; i++) if (store.remember(`k:live${i}`, t0 + 60_000, t0) === 'fresh') fresh++;
    expect(fresh).toBe(50_000);
    expect(store.remember('k:over', t0 + 2_000, t0 + 1)).toBe('full');
    // Past the short ones' expiry: room at once, though the table is moved over later calls.
    expect(store.remember('k:after', t0 + 60_000, t0 + 3_000)).toBe('fresh');
    expect(store.size).toBeGreaterThan(1_001);
    for (let i = 0; i < 1_000; i++) expect(store.remember(`k:live${i}`, t0 + 60_000, t0 + 3_001)).toBe('replayed');
    for (let i = 0; i < 5_000; i++) store.remember(`k:next${i}`, t0 + 60_000, t0 + 3_002);
    expect(store.size).toBe(6_001);
    expect(store.remember('k:48999', t0 + 60_000, t0 + 3_003)).toBe('fresh');
  });

  // The reference: a Map of nonce → expiry, asked exactly. Whole-second expiries,
  // as the store rounds expiry up to the second.
  it('answers as an exact map of live nonces would, through rebuilds and at its bound (property)', () => {
    // Mostly fresh nonces (so tables fill and rebuild), often a recent one again (so replays meet entries not yet moved).
    const op = fc.record({
      nonce: fc.oneof(fc.integer({ min: 0, max: 1_500 }), fc.integer({ min: 0, max: 40 })),
      life: fc.integer({ min: -2, max: 40 }),
      advance: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(
      fc.property(fc.array(op, { minLength: 1_500, maxLength: 4_000 }), fc.constantFrom(50, 400, 1_000_000), (ops, bound) => {
        const store = new MemoryNonceStore(bound);
        const model = new Map<string, number>();
        let now = t0;
        for (const { nonce, life, advance } of ops) {
          now += advance * 250;
          const key = `key-1:${nonce}`;
          const expiry = Math.floor(now / 1000) * 1000 + life * 1000;
          let expected: string;
          if (expiry <= now || (model.get(key) ?? 0) > now) expected = 'replayed';
          else if ([...model.values()].filter((e) => e > now).length >= bound) expected = 'full';
          else {
            expected = 'fresh';
            model.set(key, expiry);
          }
          const got = store.remember(key, expiry, now);
          if (got !== expected) throw new Error(`${key} at +${now - t0} ms, expiry +${expiry - t0}: ${got}, expected ${expected}`);
        }
      }),
      { numRuns: 40, endOnFailure: true },
    );
  });

  it('keeps its own copy of each nonce, never the header string it was cut from', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const store = new MemoryNonceStore();
    const padding = 'x'.repeat(20_000);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 5_000; i++) {
      // As verifyRequest gets it: a regex capture out of a (here very long) header.
      const header = `${padding};nonce="${i.toString(36).padStart(22, '-')}"`;
      const nonce = /nonce="([^"]+)"/.exec(header)?.[1] as string;
      expect(store.remember(`k:${nonce}`, t0 + 60_000, t0)).toBe('fresh');
    }
    gc();
    // Pinned headers would hold 5,000 × 20 kB = 100 MB; copies hold well under 5 MB.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(20 * 1024 * 1024);
    expect(store.size).toBe(5_000);
    expect(store.remember(`k:${'0'.padStart(22, '-')}`, t0 + 60_000, t0 + 1)).toBe('replayed');
  });

  it('tells apart long nonces, non-ASCII ones and ones one character apart', () => {
    const store = new MemoryNonceStore();
    const long = 'n'.repeat(3_000);
    for (const nonce of [long, `${long}x`, 'ünïcode-nonce-ünïcode-nonce', 'ünïcode-nonce-ünïcode-noncf']) {
      expect(store.remember(`k:${nonce}`, t0 + 60_000, t0)).toBe('fresh');
    }
    for (const nonce of [long, `${long}x`, 'ünïcode-nonce-ünïcode-nonce', 'ünïcode-nonce-ünïcode-noncf']) {
      expect(store.remember(`k:${nonce}`, t0 + 60_000, t0 + 1)).toBe('replayed');
    }
  });
});
