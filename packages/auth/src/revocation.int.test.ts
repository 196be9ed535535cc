import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { createRedis } from '@analytica/redis';
import { SESSIONS_REVOKED_CHANNEL, type RevocationNotice } from '@analytica/redis/live';
import { createRevocationList } from './revocation.js';

// The Redis that .ci/run and infra/up.sh provide (not through @analytica/testing, which depends on
// this package).
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `revocation-test-${randomUUID()}:`;
const redis = createRedis(redisUrl, { keyPrefix: prefix });
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  // KEYS answers with the prefix, DEL adds it again.
  if (keys.length) await redis.del(...keys.map((key) => key.slice(prefix.length)));
  await redis.quit();
});

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

describe('partner revocations against real Redis', () => {
  const partner = () => ({ id: randomUUID(), appId: randomUUID() });
  const seconds = () => Math.floor(Date.now() / 1000);

  it("checks a partner token's session, user, partner and app in one round trip", async () => {
    const revocations = createRevocationList(redis);
    const issued = partner();
    await revocations.revokeApp(randomUUID()); // some other app: nothing to do with this token
    // Every command the list sends goes through this proxy, with the turn of the event loop it was
    // sent in: commands of one turn leave in one write on the one connection (one round trip).
    const sent: string[] = [];
    let turn = 0;
    const counting = new Proxy(redis, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function' || property === 'options') return value;
        return (...args: unknown[]) => {
          sent.push(`${String(property)}@${turn}`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const ticking = setInterval(() => turn++, 0);
    onTestFinished(() => clearInterval(ticking));
    const checked = createRevocationList(counting);
    const token = { id: issued.appId, sessionId: issued.appId, issuedAt: seconds(), partner: issued };
    expect(await checked.isRevoked(token)).toBe(false);
    expect(sent).toHaveLength(2);
    expect(sent.map((c) => c.split('@')[0])).toEqual(['hmget', 'mget']);
    expect(new Set(sent.map((c) => c.split('@')[1])).size).toBe(1);
    await revocations.revokePartner(issued.id);
    expect(await checked.isRevoked(token)).toBe(true);
    // A token without a partner claim is still the one HMGET it always was.
    sent.length = 0;
    expect(await checked.isRevoked({ id: randomUUID(), sessionId: randomUUID() })).toBe(false);
    expect(sent.map((c) => c.split('@')[0])).toEqual(['hmget']);
  });

  it('publishes a notice for a revoked partner and a revoked app, and keeps each time only as long as a token lives', async () => {
    const subscriber = createRedis(redisUrl);
    const notices: RevocationNotice[] = [];
    subscriber.on('message', (_channel: string, message: string) => notices.push(JSON.parse(message) as RevocationNotice));
    await subscriber.subscribe(prefix + SESSIONS_REVOKED_CHANNEL);
    try {
      const revocations = createRevocationList(redis, { ttlSeconds: 120 });
      const issued = partner();
      await revocations.revokePartner(issued.id);
      await revocations.revokeApp(issued.appId);
      await revocations.revokeSessions(randomUUID(), [randomUUID()]);
      await expect.poll(() => notices.length).toBe(3);
      expect(notices.slice(0, 2)).toEqual([{ partnerId: issued.id }, { appId: issued.appId }]);
      expect(await redis.ttl(`auth:revoked-partner:${issued.id}`)).toBeGreaterThan(100);
      expect(await redis.ttl(`auth:revoked-app:${issued.appId}`)).toBeGreaterThan(100);
      expect(await revocations.partnerRevokedAt(issued)).toBeGreaterThanOrEqual(seconds() - 1);
    } finally {
      await subscriber.quit();
    }
  });

  it("fails closed when Redis does not answer a partner token's check in time", async () => {
    const silent = { options: {}, hmget: () => new Promise(() => {}), mget: () => new Promise(() => {}) } as unknown as typeof redis;
    const revocations = createRevocationList(silent, { timeoutMs: 100 });
    const issued = partner();
    await expect(revocations.isRevoked({ id: issued.appId, sessionId: issued.appId, issuedAt: seconds(), partner: issued })).rejects.toThrow(/did not answer within 100 ms/);
  });
});
