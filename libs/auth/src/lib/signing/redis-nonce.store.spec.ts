import { randomUUID } from 'node:crypto';
import { RedisConnection } from '../redis/redis-connection';
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
  const stores = () => [new RedisNonceStore(a.client, prefix), new RedisNonceStore(b.client, prefix)] as const;

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
});

describe('RedisNonceStore without Redis', () => {
  it('answers unavailable at once (fails closed), never fresh', async () => {
    const down = new RedisConnection('redis://127.0.0.1:1', 'spec-down');
    try {
      const store = new RedisNonceStore(down.client);
      const started = Date.now();
      expect(await store.remember('n', Date.now() + 60_000)).toBe('unavailable');
      expect(Date.now() - started).toBeLessThan(500);
    } finally {
      await down.close();
    }
  });
});
