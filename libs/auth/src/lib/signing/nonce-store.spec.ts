import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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
    const store = new MemoryNonceStore(100, 1_000);
    expect(store.remember('k:a', t0 + 5_000, t0)).toBe('fresh');
    expect(store.remember('k:a', t0 + 60_000, t0 + 10)).toBe('replayed');
  });

  it('refuses a nonce that has already expired', () => {
    expect(new MemoryNonceStore().remember('k:a', t0, t0)).toBe('replayed');
  });

  it('forgets nonces once their whole bucket has expired, and frees the room', () => {
    const store = new MemoryNonceStore(1_000, 1_000);
    for (let i = 0; i < 10; i++) store.remember(`k:${i}`, t0 + 2_000 + i, t0);
    expect(store.size).toBe(10);
    store.remember('k:late', t0 + 20_000, t0 + 3_500);
    expect(store.size).toBe(1);
    // Expired and forgotten: a signature this old is refused for freshness before the store is asked.
    expect(store.remember('k:0', t0 + 9_000, t0 + 3_600)).toBe('fresh');
  });

  it('keeps a nonce at least until its expiry, whatever order buckets were created in', () => {
    const store = new MemoryNonceStore(1_000, 1_000);
    store.remember('k:far', t0 + 10_000, t0);
    store.remember('k:near', t0 + 2_000, t0);
    store.remember('k:mid', t0 + 5_000, t0);
    expect(store.remember('k:mid', t0 + 5_000, t0 + 4_999)).toBe('replayed');
    expect(store.size).toBe(2);
    expect(store.remember('k:far', t0 + 10_000, t0 + 9_999)).toBe('replayed');
    expect(store.size).toBe(1);
  });

  it('refuses new nonces when full rather than forgetting live ones', () => {
    const store = new MemoryNonceStore(3, 1_000);
    for (const n of ['a', 'b', 'c']) expect(store.remember(`k:${n}`, t0 + 60_000, t0)).toBe('fresh');
    expect(store.remember('k:d', t0 + 60_000, t0)).toBe('full');
    // A replay is still called a replay when the store is full.
    expect(store.remember('k:a', t0 + 60_000, t0)).toBe('replayed');
    // Room again once the bucket has expired.
    expect(store.remember('k:d', t0 + 120_000, t0 + 61_000)).toBe('fresh');
  });

  it('forgets an expired bucket a few entries per call, never reopening a live nonce', () => {
    const store = new MemoryNonceStore(10_000, 1_000);
    for (let i = 0; i < 1_000; i++) store.remember(`k:old${i}`, t0 + 1_500, t0);
    store.remember('k:live', t0 + 60_000, t0);
    // The old bucket ended at t0 + 2000: one call forgets part of it, not all.
    expect(store.remember('k:new', t0 + 60_000, t0 + 2_500)).toBe('fresh');
    expect(store.size).toBeGreaterThan(2);
    expect(store.size).toBeLessThan(1_002);
    for (let i = 0; i < 40; i++) store.remember(`k:more${i}`, t0 + 60_000, t0 + 2_600);
    expect(store.size).toBe(42);
    expect(store.remember('k:live', t0 + 60_000, t0 + 2_700)).toBe('replayed');
    expect(store.remember('k:new', t0 + 60_000, t0 + 2_700)).toBe('replayed');
  });

  it('is not full while its room is held only by expired nonces still draining', () => {
    const store = new MemoryNonceStore(500, 1_000);
    for (let i = 0; i < 500; i++) expect(store.remember(`k:${i}`, t0 + 1_500, t0)).toBe('fresh');
    expect(store.remember('k:x', t0 + 1_500, t0)).toBe('full');
    expect(store.remember('k:y', t0 + 60_000, t0 + 2_001)).toBe('fresh');
    expect(store.size).toBeLessThan(500);
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

  it('tells long and non-ASCII nonces apart exactly, whichever way they are copied', () => {
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
