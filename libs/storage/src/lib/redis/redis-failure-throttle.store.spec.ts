import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisConnection } from './redis-connection';
import { RedisFailureThrottleStore } from './redis-failure-throttle.store';

const url = process.env['CROSSAUTH_TEST_REDIS_URL'];
if (!url) process.stderr.write('redis failure throttle: skipped (CROSSAUTH_TEST_REDIS_URL is not set)\n');
const describeWithRedis = url ? describe : describe.skip;
const rule = { limit: 3, windowSeconds: 60, blockSeconds: 30 };

describeWithRedis('RedisFailureThrottleStore (real Redis, two instances)', () => {
  let a: RedisConnection;
  let b: RedisConnection;
  beforeAll(async () => {
    a = new RedisConnection(url as string, 'throttle-a');
    b = new RedisConnection(url as string, 'throttle-b');
    expect(await a.waitUntilReady(5000)).toBe(true);
    expect(await b.waitUntilReady(5000)).toBe(true);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('counts failures from both instances against one limit, and blocks the client on both', async () => {
    const one = new RedisFailureThrottleStore(a, rule);
    const two = new RedisFailureThrottleStore(b, rule);
    const client = `10.0.0.${randomUUID()}`;
    try {
      expect((await one.increment(client)).blockedForMs).toBe(0);
      expect((await two.increment(client)).blockedForMs).toBe(0);
      expect((await one.increment(client)).blockedForMs).toBe(0);
      expect(one.blockedForMs(client, Date.now())).toBe(0);
      // The fourth failure, on the other instance, is over the deployment's limit of 3.
      const fourth = await two.increment(client);
      expect(fourth.failures).toBe(4);
      expect(fourth.blockedForMs).toBeGreaterThan(29_000);
      expect(two.blockedForMs(client, Date.now())).toBeGreaterThan(29_000);
      // The block reaches the first instance over pub/sub.
      for (let i = 0; i < 50 && one.blockedForMs(client, Date.now()) === 0; i++) await sleep(20);
      expect(one.blockedForMs(client, Date.now())).toBeGreaterThan(29_000);
      expect(one.blockedForMs(`${client}-other`, Date.now())).toBe(0);
    } finally {
      one.close();
      two.close();
    }
  });
});

describe('RedisFailureThrottleStore without Redis', () => {
  it('keeps counting in this process (auth goes on, throttled per instance)', async () => {
    const down = new RedisConnection('redis://127.0.0.1:1', 'throttle-down');
    const store = new RedisFailureThrottleStore(down, rule);
    try {
      for (let i = 0; i < 3; i++) expect((await store.increment('c')).blockedForMs).toBe(0);
      expect((await store.increment('c')).blockedForMs).toBeGreaterThan(0);
      expect(store.blockedForMs('c', Date.now())).toBeGreaterThan(0);
    } finally {
      store.close();
      await down.close();
    }
  });
});
