import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '@analytica/logger';
import { createRedis } from '@analytica/redis';
import { services, uniqueName } from '@analytica/testing';
import { partnerQuotas } from './quotas.js';

const redis = createRedis(services.redisUrl, { keyPrefix: `${uniqueName('quotas')}:` });
const quotas = partnerQuotas(redis, createLogger('test', 'silent'));
afterAll(() => redis.quit());

describe('partner quotas in Redis', () => {
  it('counts down the minute and the day in the headers, then refuses over the rate with the seconds left in the minute', async () => {
    const app = { appId: randomUUID(), ratePerMinute: 3, dailyQuota: 100 };
    const now = Date.parse('2026-12-05T10:00:20Z');
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push(await quotas.spend(app, now));
    expect(outcomes.map((o) => o.headers['ratelimit-remaining'])).toEqual(['2', '1', '0', '0']);
    expect(outcomes.map((o) => o.headers['x-quota-remaining'])).toEqual(['99', '98', '97', '96']);
    expect(outcomes[0]!.headers).toMatchObject({ 'ratelimit-limit': '3', 'ratelimit-reset': '40', 'x-quota-limit': '100', 'x-quota-reset': String(14 * 3600 - 20) });
    expect(outcomes.slice(0, 3).every((o) => o.refused === undefined)).toBe(true);
    expect(outcomes[3]!.refused).toEqual({ retryAfterSeconds: 40, limit: 'rate' });
    // Each window's key expires on its own: nothing is left behind in Redis.
    await expect.poll(() => redis.ttl(`limits:partner:minute:${app.appId}:${Math.floor(now / 60_000)}`)).toBeGreaterThan(60);
    await expect.poll(() => redis.ttl(`limits:partner:day:${app.appId}:2026-12-05`)).toBeGreaterThan(86_400);
    // The next minute starts afresh; the day does not.
    const later = await quotas.spend(app, now + 60_000);
    expect(later.refused).toBeUndefined();
    expect(later.headers['x-quota-remaining']).toBe('95');
  });

  it('refuses over the daily quota until UTC midnight, and keeps apps apart', async () => {
    const app = { appId: randomUUID(), ratePerMinute: 1000, dailyQuota: 2 };
    const now = Date.parse('2026-12-05T23:59:00Z');
    await quotas.spend(app, now);
    await quotas.spend(app, now);
    expect((await quotas.spend(app, now)).refused).toEqual({ retryAfterSeconds: 60, limit: 'daily quota' });
    expect((await quotas.spend(app, now + 61_000)).refused).toBeUndefined(); // a new UTC day
    expect((await quotas.spend({ ...app, appId: randomUUID() }, now)).refused).toBeUndefined();
  });
});
