import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { createRedis, type Redis } from '@analytica/redis';
import { createRevocationList, revocationChannel, type RevocationList } from './revocation.js';
import { cacheRevocations } from './revocation-cache.js';

// The Redis that .ci/run and infra/up.sh provide (not through @analytica/testing, which depends on this package).
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `revocation-cache-test-${randomUUID()}:`;
const redis = createRedis(redisUrl, { keyPrefix: prefix });
// Another service's connection: its revocations reach this process only as published notices.
const elsewhere = createRevocationList(createRedis(redisUrl, { keyPrefix: prefix }));
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys.map((key) => key.slice(prefix.length)));
  await redis.quit();
});

/** The real list on Redis, counting the lookups that reach Redis; `hold` keeps the next answer back. */
function counted(list: RevocationList) {
  let hold: Promise<void> | undefined;
  const counter = {
    lookups: 0,
    holdNext(): () => void {
      let release!: () => void;
      hold = new Promise((resolve) => (release = resolve));
      return release;
    },
    list: {
      ...list,
      async isRevoked(token: Parameters<RevocationList['isRevoked']>[0]) {
        counter.lookups += 1;
        const answer = await list.isRevoked(token);
        const held = hold;
        hold = undefined;
        await held;
        return answer;
      },
    } satisfies RevocationList,
  };
  return counter;
}

async function cached(options: { ttlMs?: number } = {}) {
  const counter = counted(createRevocationList(redis));
  const name = `revocation-notices-${randomUUID()}`;
  const notices = createRedis(redisUrl, { keyPrefix: prefix, name });
  const cache = cacheRevocations(counter.list, { notices, channel: revocationChannel(redis), ttlMs: options.ttlMs ?? 60_000 });
  onTestFinished(() => cache.close());
  await until(() => cache.listening);
  return { cache, counter, notices, name };
}

async function until(condition: () => boolean | Promise<boolean>, ms = 2000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const session = () => ({ id: randomUUID(), sessionId: randomUUID() });

describe('the revocation cache on real Redis', () => {
  it('answers a session seen not revoked from memory, without asking Redis again', async () => {
    const { cache, counter } = await cached();
    const token = session();
    expect(await cache.isRevoked(token)).toBe(false);
    expect(await cache.isRevoked(token)).toBe(false);
    expect(await cache.isRevoked(token)).toBe(false);
    expect(counter.lookups).toBe(1);
  });

  it('refuses a session revoked by another service as soon as its notice arrives, and asks Redis again', async () => {
    const { cache, counter } = await cached();
    const token = session();
    expect(await cache.isRevoked(token)).toBe(false);
    await elsewhere.revokeSessions(token.id, [token.sessionId]);
    // Redis queues the notice to subscribers while it runs the revoking MULTI, before answering it:
    // within a turn or two of the event loop here (another process gets it before the revoking
    // request is even answered).
    await until(async () => (await cache.isRevoked(token)) === true, 1000);
    expect(counter.lookups).toBe(2);
    // A revoked session is never cached: every check asks Redis.
    expect(await cache.isRevoked(token)).toBe(true);
    expect(counter.lookups).toBe(3);
  });

  it('a revocation written through the cache itself counts at once, before any notice', async () => {
    const { cache } = await cached();
    const token = session();
    expect(await cache.isRevoked(token)).toBe(false);
    await cache.disableUser(token.id);
    expect(await cache.isRevoked(token)).toBe(true);
    await cache.enableUser(token.id);
    expect(await cache.isRevoked(token)).toBe(false);
  });

  it('does not keep an answer that was in flight when a revocation was published', async () => {
    const { cache, counter, notices } = await cached();
    const token = session();
    const release = counter.holdNext();
    const check = cache.isRevoked(token); // Redis answers "not revoked"; the answer is held here
    await until(() => counter.lookups === 1);
    const noticed = new Promise((resolve) => notices.once('message', resolve)); // after the cache's own listener
    await elsewhere.revokeSessions(randomUUID(), [randomUUID()]); // any revocation at all
    await noticed;
    release();
    expect(await check).toBe(false);
    expect(await cache.isRevoked(token)).toBe(false);
    expect(counter.lookups).toBe(2); // the held answer was not kept
  });

  it('caches nothing while its notice connection is down, since notices may be missed', async () => {
    const { cache, counter, notices } = await cached();
    const token = session();
    (notices as Redis).disconnect(); // no reconnection: notices stop for good
    await until(() => notices.status === 'end');
    expect(await cache.isRevoked(token)).toBe(false);
    expect(await cache.isRevoked(token)).toBe(false);
    expect(counter.lookups).toBe(2);
  });

  it('forgets everything its notice connection may have missed while it reconnected, then caches again', async () => {
    const { cache, counter, notices, name } = await cached();
    const token = session();
    expect(await cache.isRevoked(token)).toBe(false);
    // The server drops the notice connection (as a restart or a network cut does); ioredis reconnects.
    const clients = String(await redis.call('CLIENT', 'LIST'));
    const id = clients
      .split('\n')
      .find((line) => line.includes(` name=${name} `))
      ?.match(/id=(\d+)/)?.[1];
    expect(id).toBeDefined();
    await redis.call('CLIENT', 'KILL', 'ID', id!);
    await until(() => notices.status !== 'ready');
    await until(() => notices.status === 'ready');
    await until(() => cache.listening);
    expect(await cache.isRevoked(token)).toBe(false);
    expect(counter.lookups).toBe(2); // asked again after the drop
    // Cached again once subscribed again: a lookup is kept, the check after it asks no one.
    await until(async () => {
      await cache.isRevoked(token);
      const before = counter.lookups;
      await cache.isRevoked(token);
      return counter.lookups === before;
    });
  });

  it('asks Redis again once a verdict is older than its time to live', async () => {
    const { cache, counter } = await cached({ ttlMs: 100 });
    const token = session();
    await cache.isRevoked(token);
    await cache.isRevoked(token);
    expect(counter.lookups).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await cache.isRevoked(token);
    expect(counter.lookups).toBe(2);
  });
});
