import { describe, expect, it } from 'vitest';
import { createRefreshingCache } from './refreshing-cache.js';

/** A store whose reads answer when the test says so, counting them. */
function slowStore() {
  const pending: { key: string; answer: (value: string) => void; fail: (error: Error) => void }[] = [];
  const load = (key: string) => () =>
    new Promise<string>((answer, fail) => {
      pending.push({ key, answer, fail });
    });
  return { pending, load };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A cache on a clock the test moves (`clock.now`), and its slow store. */
function cacheWithClock() {
  const clock = { now: 0 };
  const cache = createRefreshingCache<string>({ freshMs: 5000, maxAgeMs: 60_000, now: () => clock.now });
  return { clock, cache, store: slowStore() };
}

/** Caches AAPL as "Apple v1" at time 0. */
async function cachedApple({ cache, store }: ReturnType<typeof cacheWithClock>) {
  const first = cache.get('AAPL', store.load('AAPL'));
  store.pending[0]!.answer('Apple v1');
  return first;
}

describe('the headline cache (stale while revalidate)', () => {
  it('serves a value younger than freshMs from memory without reading', async () => {
    const t = cacheWithClock();
    const { clock, cache, store } = t;
    expect(await cachedApple(t)).toBe('Apple v1');
    clock.now = 4999;
    expect(await cache.get('AAPL', store.load('AAPL'))).toBe('Apple v1');
    expect(store.pending).toHaveLength(1);
  });

  it('serves a stale value at once and reads it again in the background; the next caller gets the new one', async () => {
    const t = cacheWithClock();
    const { clock, cache, store } = t;
    await cachedApple(t);
    clock.now = 6000;
    // The read under way does not hold the caller up: it answers before the store does.
    expect(await cache.get('AAPL', store.load('AAPL'))).toBe('Apple v1');
    expect(store.pending).toHaveLength(2);
    // A second stale caller meanwhile shares the read under way.
    expect(await cache.get('AAPL', store.load('AAPL'))).toBe('Apple v1');
    expect(store.pending).toHaveLength(2);
    store.pending[1]!.answer('Apple v2');
    await settle();
    expect(await cache.get('AAPL', store.load('AAPL'))).toBe('Apple v2');
    expect(store.pending).toHaveLength(2);
  });

  it('makes the caller wait for the store when nothing is cached or the value is older than maxAgeMs', async () => {
    const t = cacheWithClock();
    const { clock, cache, store } = t;
    const a = cache.get('AAPL', store.load('AAPL'));
    const b = cache.get('AAPL', store.load('AAPL'));
    expect(store.pending).toHaveLength(1); // one read for both
    store.pending[0]!.answer('Apple v1');
    expect([await a, await b]).toEqual(['Apple v1', 'Apple v1']);
    clock.now = 60_000;
    let answered = false;
    const old = cache.get('AAPL', store.load('AAPL')).then((v) => {
      answered = true;
      return v;
    });
    await settle();
    expect(answered).toBe(false);
    store.pending[1]!.answer('Apple v2');
    expect(await old).toBe('Apple v2');
  });

  it('keeps the stale value when the background read fails, and says so', async () => {
    const t = cacheWithClock();
    const { clock, cache, store } = t;
    await cachedApple(t);
    clock.now = 6000;
    const failures: unknown[] = [];
    expect(await cache.get('AAPL', store.load('AAPL'), (error) => failures.push(error))).toBe('Apple v1');
    store.pending[1]!.fail(new Error('DynamoDB is down'));
    await settle();
    expect(failures).toEqual([new Error('DynamoDB is down')]);
    expect(await cache.get('AAPL', store.load('AAPL'))).toBe('Apple v1');
  });

  it('never puts back what was forgotten: a read that started before forget is not kept', async () => {
    const t = cacheWithClock();
    const { clock, cache, store } = t;
    await cachedApple(t);
    clock.now = 6000;
    await cache.get('AAPL', store.load('AAPL')); // a background read starts
    cache.forget(['AAPL']); // a new article about AAPL was stored
    store.pending[1]!.answer('Apple v1 (read before the new article)');
    await settle();
    const next = cache.get('AAPL', store.load('AAPL'));
    expect(store.pending).toHaveLength(3); // read again, not served the older answer
    store.pending[2]!.answer('Apple v2');
    expect(await next).toBe('Apple v2');

    cache.forgetAll();
    const again = cache.get('AAPL', store.load('AAPL'));
    expect(store.pending).toHaveLength(4);
    store.pending[3]!.answer('Apple v3');
    expect(await again).toBe('Apple v3');
  });
  it('renews a key for a change it is told of: callers get the held value until the new one is read, then the new one; an older read is not kept', async () => {
    const t = cacheWithClock();
    const { clock, cache, store } = t;
    await cachedApple(t);
    clock.now = 6000;
    await cache.get('AAPL', store.load('AAPL')); // a background read starts (pending[1])
    const renewed = cache.renew('AAPL', store.load('AAPL')); // a new article about AAPL was stored (pending[2])
    expect(store.pending).toHaveLength(3);
    // Meanwhile: the held value, at once, with no new read.
    expect(await cache.get('AAPL', store.load('AAPL'))).toBe('Apple v1');
    expect(store.pending).toHaveLength(3);
    store.pending[1]!.answer('Apple v1 (read before the new article)');
    store.pending[2]!.answer('Apple v2');
    await renewed;
    expect(await cache.get('AAPL', store.load('AAPL'))).toBe('Apple v2');
    expect(store.pending).toHaveLength(3); // fresh from the renewal: no read
  });

  it('after a renewal that fails, serves the held value and reads it again in the background', async () => {
    const t = cacheWithClock();
    const { clock, cache, store } = t;
    await cachedApple(t);
    clock.now = 1000; // fresh
    const renewed = cache.renew('AAPL', store.load('AAPL'));
    store.pending[1]!.fail(new Error('DynamoDB is down'));
    await expect(renewed).rejects.toThrow('DynamoDB is down');
    expect(await cache.get('AAPL', store.load('AAPL'))).toBe('Apple v1'); // served at once...
    expect(store.pending).toHaveLength(3); // ...and read again
    store.pending[2]!.answer('Apple v2');
    await settle();
    expect(await cache.get('AAPL', store.load('AAPL'))).toBe('Apple v2');
  });
});
