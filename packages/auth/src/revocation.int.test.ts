import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '@analytica/redis';
import { createRevocationList } from './revocation.js';

// The Redis that .ci/run and infra/up.sh provide (not through @analytica/testing, which depends on
// this package).
const redis = createRedis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', { keyPrefix: `revocation-test-${randomUUID()}:` });
afterAll(() => redis.quit());

/** Keeps the event loop busy, as a long GC or a starved process does. */
function stall(ms: number) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy
  }
}

describe('the revocation check against real Redis', () => {
  it('counts an answer that arrived during an event-loop stall longer than the time limit, instead of calling it a timeout', async () => {
    const revocations = createRevocationList(redis, { timeoutMs: 100 });
    await redis.ping(); // connected
    const check = revocations.isRevoked({ id: randomUUID(), sessionId: randomUUID() });
    stall(300); // Redis answers within a millisecond, but the loop reads it only after the timer is due
    await expect(check).resolves.toBe(false);
  });

  it('still gives up when Redis really does not answer in time', async () => {
    // A connection whose replies never come (pausing the shared Redis would stall other tests).
    const silent = { options: {}, hmget: () => new Promise(() => {}) } as unknown as typeof redis;
    const revocations = createRevocationList(silent, { timeoutMs: 100 });
    await expect(revocations.isRevoked({ id: randomUUID(), sessionId: randomUUID() })).rejects.toThrow(/did not answer within 100 ms/);
  });
});
