import type { Logger } from '@analytica/logger';
import { redisGuard, type Redis } from '@analytica/redis';

/** The part of a partner token that quotas are about. */
export interface QuotaHolder {
  appId: string;
  ratePerMinute: number;
  dailyQuota: number;
}

export interface QuotaOutcome {
  /** Sent with every partner response, refused or not. */
  headers: Record<string, string>;
  /** Set when the request is over a limit: how long to wait, and which limit it was. */
  refused?: { retryAfterSeconds: number; limit: 'rate' | 'daily quota' };
}

/**
 * Per-app request limits in Redis, shared by every gateway instance: a rate per minute and a
 * quota per UTC day, both fixed windows (one INCR each, in a single round trip), so a partner can
 * read its budget and its reset time from the headers and plan. The limits come from the app's
 * token (the user service puts the app's current settings in every token it issues).
 *
 * Headers: `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds, IETF draft) for the
 * minute; `X-Quota-Limit`, `X-Quota-Remaining`, `X-Quota-Reset` (seconds to UTC midnight) for the day.
 */
export function partnerQuotas(redis: Redis, logger: Logger) {
  // The connection's guard: a Redis that does not answer costs a request at most the command
  // timeout, and nothing once the circuit is open.
  const guard = redisGuard(redis);
  const expireLater = (key: string, seconds: number) =>
    void redis.expire(key, seconds).catch((error: unknown) => logger.warn({ err: error, key }, 'could not set the expiry of a quota window'));
  return {
    async spend(holder: QuotaHolder, now = Date.now()): Promise<QuotaOutcome> {
      const minute = Math.floor(now / 60_000);
      const day = new Date(now).toISOString().slice(0, 10);
      const minuteKey = `limits:partner:minute:${holder.appId}:${minute}`;
      const dayKey = `limits:partner:day:${holder.appId}:${day}`;
      const minuteReset = Math.max(1, Math.ceil(((minute + 1) * 60_000 - now) / 1000));
      const dayReset = Math.max(1, Math.ceil((Date.parse(`${day}T00:00:00Z`) + 86_400_000 - now) / 1000));
      let usedThisMinute: number;
      let usedToday: number;
      try {
        // Two INCRs written together on the one connection: one round trip, and no pipeline object
        // built per request. A window's key gets its expiry from the request that created it.
        [usedThisMinute, usedToday] = await guard.run(() => Promise.all([redis.incr(minuteKey), redis.incr(dayKey)]));
        if (usedThisMinute === 1) expireLater(minuteKey, 120);
        if (usedToday === 1) expireLater(dayKey, 2 * 86_400);
      } catch (error) {
        // Redis away means the app's quotas are not enforced for a while, rather than every partner
        // refused; the gateway's per-address budget still holds (in memory while Redis is away),
        // and tokens follow the verifier's outage rule.
        logger.warn({ err: error }, 'partner quotas unavailable');
        return { headers: {} };
      }
      const headers = {
        'ratelimit-limit': String(holder.ratePerMinute),
        'ratelimit-remaining': String(Math.max(0, holder.ratePerMinute - usedThisMinute)),
        'ratelimit-reset': String(minuteReset),
        'x-quota-limit': String(holder.dailyQuota),
        'x-quota-remaining': String(Math.max(0, holder.dailyQuota - usedToday)),
        'x-quota-reset': String(dayReset),
      };
      if (usedToday > holder.dailyQuota) return { headers, refused: { retryAfterSeconds: dayReset, limit: 'daily quota' } };
      if (usedThisMinute > holder.ratePerMinute) return { headers, refused: { retryAfterSeconds: minuteReset, limit: 'rate' } };
      return { headers };
    },
  };
}
