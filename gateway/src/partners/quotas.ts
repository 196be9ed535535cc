import type { Logger } from '@analytica/logger';
import type { Redis } from '@analytica/redis';

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
        const results = await redis
          .multi()
          .incr(minuteKey)
          .expire(minuteKey, 120)
          .incr(dayKey)
          .expire(dayKey, 2 * 86_400)
          .exec();
        const failed = results?.find(([error]) => error);
        if (!results || failed) throw failed?.[0] ?? new Error('quota update was discarded');
        usedThisMinute = Number(results[0]![1]);
        usedToday = Number(results[2]![1]);
      } catch (error) {
        // As for users' request budget: Redis away means the limits are not enforced for a while
        // (tokens still fail closed in the verifier), rather than every partner refused.
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
