import { createHash } from 'node:crypto';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError, ErrorCode } from '@analytica/errors';
import type { Redis } from '@analytica/redis';

export interface LoginLimitSettings {
  maxFailuresPerAccount: number;
  maxFailuresPerIp: number;
  windowSeconds: number;
  lockoutSeconds: number;
  lockoutMaxSeconds: number;
  registrationsPerIpPerHour: number;
  /** requestPasswordReset per address (known or not) and per caller address, each per hour. */
  passwordResetsPerEmailPerHour: number;
  passwordResetsPerIpPerHour: number;
}

/**
 * RATE_LIMITED with the wait in seconds. The HTTP status stays 200 here: the gateway treats a
 * non-2xx subgraph answer as a failed fetch and would lose the code; it sets 429 and Retry-After
 * itself from extensions.retryAfterSeconds.
 */
export function rateLimited(retryAfterSeconds: number, message: string) {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return new AppError(ErrorCode.RATE_LIMITED, message, {
    retryAfterSeconds: seconds,
    http: { headers: new Map([['retry-after', String(seconds)]]) },
  });
}

/**
 * Brute-force protection in Redis (rate-limiter-flexible), shared by every instance of the
 * service. Failed sign-ins are counted per account and per address; reaching the limit locks
 * that key for a while, and each further lockout within a day doubles the wait. A locked
 * account is refused before its password is even checked, so the right password does not help.
 * Accounts are keyed by a hash of the email, the same whether or not the account exists.
 */
export function createLoginLimits(redis: Redis, settings: LoginLimitSettings) {
  const limiter = (keyPrefix: string, points: number, duration: number) => new RateLimiterRedis({ storeClient: redis, keyPrefix: `limits:${keyPrefix}`, points, duration });
  const accountFailures = limiter('login-failures:account', settings.maxFailuresPerAccount, settings.windowSeconds);
  const ipFailures = limiter('login-failures:ip', settings.maxFailuresPerIp, settings.windowSeconds);
  const accountLockouts = limiter('login-lockouts:account', Number.MAX_SAFE_INTEGER, 86_400);
  const ipLockouts = limiter('login-lockouts:ip', Number.MAX_SAFE_INTEGER, 86_400);
  const registrations = limiter('registrations:ip', settings.registrationsPerIpPerHour, 3600);
  const resetsByEmail = limiter('password-resets:email', settings.passwordResetsPerEmailPerHour, 3600);
  const resetsByIp = limiter('password-resets:ip', settings.passwordResetsPerIpPerHour, 3600);
  const accountKey = (email: string) => createHash('sha256').update(email.trim().toLowerCase()).digest('base64url').slice(0, 32);

  async function lockedFor(failures: RateLimiterRedis, key: string, max: number): Promise<number> {
    const state = await failures.get(key);
    return state && state.consumedPoints >= max ? Math.ceil(state.msBeforeNext / 1000) : 0;
  }

  async function countFailure(failures: RateLimiterRedis, lockouts: RateLimiterRedis, key: string, max: number): Promise<number> {
    const state = await failures.penalty(key, 1);
    if (state.consumedPoints < max) return 0;
    const lockoutsToday = (await lockouts.penalty(key, 1)).consumedPoints;
    const seconds = Math.min(settings.lockoutSeconds * 2 ** Math.min(lockoutsToday - 1, 30), settings.lockoutMaxSeconds);
    await failures.block(key, seconds);
    return seconds;
  }

  return {
    /** Seconds until this account and address may try again; 0 when they may now. */
    async loginRetryAfter(email: string, ip: string | null): Promise<number> {
      const [account, address] = await Promise.all([
        lockedFor(accountFailures, accountKey(email), settings.maxFailuresPerAccount),
        ip ? lockedFor(ipFailures, ip, settings.maxFailuresPerIp) : 0,
      ]);
      return Math.max(account, address);
    },
    /** Counts a wrong password or code; returns the lockout it started, in seconds (0 for none). */
    async loginFailed(email: string, ip: string | null): Promise<{ accountLockedFor: number; ipLockedFor: number }> {
      const [accountLockedFor, ipLockedFor] = await Promise.all([
        countFailure(accountFailures, accountLockouts, accountKey(email), settings.maxFailuresPerAccount),
        ip ? countFailure(ipFailures, ipLockouts, ip, settings.maxFailuresPerIp) : 0,
      ]);
      return { accountLockedFor, ipLockedFor };
    },
    /** A successful sign-in clears the account's failures (not the address's, nor the lockout history). */
    async loginSucceeded(email: string) {
      await accountFailures.delete(accountKey(email));
    },
    async registrationRetryAfter(ip: string | null): Promise<number> {
      return ip ? lockedFor(registrations, ip, settings.registrationsPerIpPerHour) : 0;
    },
    async registered(ip: string | null) {
      if (ip) await registrations.penalty(ip, 1);
    },
    /**
     * Spends one password reset request of the address (hashed, the same whether or not it has an
     * account) and of the caller's address; answers the seconds to wait, 0 when within both limits.
     */
    async passwordResetRequested(email: string, ip: string | null): Promise<number> {
      const spend = (limiter: RateLimiterRedis, key: string) =>
        limiter.consume(key).then(
          () => 0,
          (rejection: unknown) => {
            if (rejection instanceof RateLimiterRes) return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
            throw rejection;
          },
        );
      const [byEmail, byIp] = await Promise.all([spend(resetsByEmail, accountKey(email)), ip ? spend(resetsByIp, ip) : 0]);
      return Math.max(byEmail, byIp);
    },
  };
}
export type LoginLimits = ReturnType<typeof createLoginLimits>;
