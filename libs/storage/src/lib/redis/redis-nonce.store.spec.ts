import { randomUUID } from 'node:crypto';
import { RedisConnection } from './redis-connection';
import { RedisNonceStore } from './redis-nonce.store';

const url = process.env['CROSSAUTH_TEST_REDIS_URL'];
if (!url) process.stderr.write('redis nonce store: skipped (CROSSAUTH_TEST_REDIS_URL is not set)\n');
const describeWithRedis = url ? describe : describe.skip;

describeWithRedis('RedisNonceStore (real Redis, two instances)', () => {
  let a: RedisConnection;
  let b: RedisConnection;
  beforeAll(async () => {
    a = new RedisConnection(url as string, 'spec-a');
    b = new RedisConnection(url as string, 'spec-b');
    expect(await a.waitUntilReady(5000)).toBe(true);
    expect(await b.waitUntilReady(5000)).toBe(true);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });
  const prefix = `spec:${randomUUID()}:`;
  const stores = () =>
    [new RedisNonceStore(a.client, { prefix, lossGuardMs: 60_000 }), new RedisNonceStore(b.client, { prefix, lossGuardMs: 60_000 })] as const;

  it('refuses on one instance a nonce the other has seen', async () => {
    const [one, two] = stores();
    const now = Date.now();
    expect(await one.remember('n-1', now + 60_000, now)).toBe('fresh');
    expect(await two.remember('n-1', now + 60_000, now)).toBe('replayed');
    expect(await one.remember('n-1', now + 60_000, now)).toBe('replayed');
    expect(await two.remember('n-2', now + 60_000, now)).toBe('fresh');
  });

  it('lets exactly one of many concurrent uses of a nonce through, across instances', async () => {
    const [one, two] = stores();
    const now = Date.now();
    const verdicts = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? one : two).remember('race', now + 60_000, now)));
    expect(verdicts.filter((v) => v === 'fresh')).toHaveLength(1);
    expect(verdicts.filter((v) => v === 'replayed')).toHaveLength(39);
  });

  it('forgets a nonce when its window ends, and calls one already past its window a replay', async () => {
    const [one] = stores();
    const now = Date.now();
    expect(await one.remember('short', now + 150, now)).toBe('fresh');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await one.remember('short', Date.now() + 60_000)).toBe('fresh');
    expect(await one.remember('late', now - 1, now)).toBe('replayed');
  });

  it('stores digests, never the nonce itself', async () => {
    const [one] = stores();
    await one.remember('visible-nonce', Date.now() + 60_000);
    const keys = await a.client.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.some((k) => k.includes('visible-nonce'))).toBe(false);
  });

  describe('after Redis lost its memory', () => {
    // What a restart without persistence, or a FLUSHALL, leaves of this store's keys: nothing.
    const forget = async (prefix: string) => {
      const keys = await a.client.keys(`${prefix}*`);
      if (keys.length > 0) await a.client.del(...keys);
    };
    const until = async (condition: () => Promise<boolean>, deadlineMs: number) => {
      const deadline = Date.now() + deadlineMs;
      while (!(await condition())) {
        if (Date.now() > deadline) throw new Error('condition not met in time');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    };

    it('refuses a nonce it accepted before the loss, on every instance, for the guard window, then accepts fresh ones', async () => {
      const prefix = `spec:${randomUUID()}:`;
      const guard = 1500;
      const one = new RedisNonceStore(a.client, { prefix, lossGuardMs: guard });
      const two = new RedisNonceStore(b.client, { prefix, lossGuardMs: guard });
      const window = Date.now() + 60_000;
      expect(await one.remember('before-loss', window)).toBe('fresh');
      expect(await two.remember('seen-by-two', window)).toBe('fresh');
      await forget(prefix);
      const lostAt = Date.now();
      // Without the guard this would be 'fresh': a replay.
      expect(await one.remember('before-loss', window)).toBe('unavailable');
      expect(await two.remember('before-loss', window)).toBe('unavailable');
      expect(await two.remember('brand-new', window)).toBe('unavailable');
      // An instance started after the loss was noticed is held by the shared guard too.
      const late = new RedisNonceStore(a.client, { prefix, lossGuardMs: guard });
      expect(await late.remember('before-loss', window)).toBe('unavailable');
      await until(async () => (await one.remember(`probe-${randomUUID()}`, window)) === 'fresh', guard * 3);
      expect(Date.now() - lostAt).toBeGreaterThanOrEqual(guard - 50);
      expect(await two.remember('after-guard', window)).toBe('fresh');
      expect(await one.remember('after-guard', window)).toBe('replayed');
    });

    it('starts without a guard on a Redis it has never seen (nothing could have been accepted yet)', async () => {
      const prefix = `spec:${randomUUID()}:`;
      const store = new RedisNonceStore(a.client, { prefix, lossGuardMs: 60_000 });
      expect(await store.remember('first', Date.now() + 60_000)).toBe('fresh');
      expect(await store.remember('first', Date.now() + 60_000)).toBe('replayed');
    });

    it('notices the loss on reconnect, before the next nonce arrives', async () => {
      const prefix = `spec:${randomUUID()}:`;
      const own = new RedisConnection(url as string, 'spec-loss-reconnect');
      try {
        expect(await own.waitUntilReady(5000)).toBe(true);
        const store = new RedisNonceStore(own.client, { prefix, lossGuardMs: 60_000 });
        expect(await store.remember('n', Date.now() + 60_000)).toBe('fresh');
        await forget(prefix);
        own.client.disconnect(true);
        await until(async () => (await a.client.exists(`${prefix}memory-lost-guard`)) === 1, 5000);
        expect(await store.remember('n', Date.now() + 60_000)).toBe('unavailable');
      } finally {
        await own.close();
      }
    });

    it('refuses a guard window that is not positive', () => {
      expect(() => new RedisNonceStore(a.client, { lossGuardMs: 0 })).toThrow(/lossGuardMs/);
    });
  });
});

describe('RedisNonceStore without Redis', () => {
  it('answers unavailable at once (fails closed), never fresh', async () => {
    const down = new RedisConnection('redis://127.0.0.1:1', 'spec-down');
    try {
      const store = new RedisNonceStore(down.client, { lossGuardMs: 60_000 });
      const started = Date.now();
      expect(await store.remember('n', Date.now() + 60_000)).toBe('unavailable');
      expect(Date.now() - started).toBeLessThan(500);
    } finally {
      await down.close();
    }
  });
});
