import type { Request, RequestHandler, Response } from 'express';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { authenticate, type AuthUser, type TokenVerifier } from '@analytica/auth';
import { ErrorCode } from '@analytica/errors';
import type { Logger } from '@analytica/logger';
import { redisGuard, type Redis } from '@analytica/redis';

export interface Authenticated {
  user: AuthUser | null;
  error?: GraphQLError;
}

/** What the budget middleware leaves on the request: the verified caller, so that the context does not verify again. */
export const authenticationOf = (req: Request): Authenticated | undefined => (req as Request & { authenticated?: Authenticated }).authenticated;

export interface RequestBudget {
  /** For HTTP requests (and SSE subscriptions, which are HTTP requests). */
  middleware: RequestHandler;
  /**
   * Spends one request of a signed-in user's budget for an operation that arrives another way (a
   * subscribe message over a WebSocket); 0 when within budget, else the seconds to wait. A partner
   * app's token spends its app's quota in its own gate instead, so it costs nothing here.
   */
  spendFor(user: AuthUser): Promise<number>;
}

/**
 * A request budget per signed-in user and per address, in Redis (rate-limiter-flexible) so that
 * every gateway instance spends from the same one. Every request counts for its address; a
 * signed-in one counts for its user too. Over budget: 429, RATE_LIMITED, Retry-After.
 *
 * While Redis cannot answer (the connection's guard: timeout, circuit open), each gateway keeps
 * the same budgets in its own memory instead: limits stay enforced per instance (a deployment of N
 * gateways then lets a caller spend up to N times the budget), and no request waits for Redis
 * longer than REDIS_COMMAND_TIMEOUT_MS or is refused because Redis is away.
 */
export function requestBudget(options: { redis: Redis; verifier: TokenVerifier; logger: Logger; perUserPerMinute: number; perIpPerMinute: number }): RequestHandler {
  return createRequestBudget(options).middleware;
}

/** The request budget for every transport: one budget per user, whether operations come over HTTP, SSE or a WebSocket. */
export function createRequestBudget(options: { redis: Redis; verifier: TokenVerifier; logger: Logger; perUserPerMinute: number; perIpPerMinute: number }): RequestBudget {
  const guard = redisGuard(options.redis);
  // rejectIfRedisNotReady: while the connection is down, fail at once instead of queueing.
  const byUser = new RateLimiterRedis({
    storeClient: options.redis,
    keyPrefix: 'limits:gateway:user',
    points: options.perUserPerMinute,
    duration: 60,
    rejectIfRedisNotReady: true,
  });
  const byIp = new RateLimiterRedis({ storeClient: options.redis, keyPrefix: 'limits:gateway:ip', points: options.perIpPerMinute, duration: 60, rejectIfRedisNotReady: true });
  const local = new Map<RateLimiterRedis, RateLimiterMemory>([
    [byUser, new RateLimiterMemory({ keyPrefix: 'user', points: options.perUserPerMinute, duration: 60 })],
    [byIp, new RateLimiterMemory({ keyPrefix: 'ip', points: options.perIpPerMinute, duration: 60 })],
  ]);
  let degraded = false;
  const waitOf = (refusal: RateLimiterRes) => Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));

  /** Seconds to wait, 0 when within budget. An over-budget answer is Redis answering, not a failure of it. */
  const consume = (limiter: RateLimiterRedis | RateLimiterMemory, key: string): Promise<number> =>
    limiter.consume(key).then(
      () => 0,
      (rejection: unknown) => {
        if (rejection instanceof RateLimiterRes) return waitOf(rejection);
        throw rejection;
      },
    );

  /** Seconds to wait (0: within budget), and whether Redis answered or this gateway's memory stood in. */
  async function spend(limiter: RateLimiterRedis, key: string, inRedis = true): Promise<{ wait: number; inRedis: boolean }> {
    if (inRedis) {
      try {
        const wait = await guard.run(() => consume(limiter, key));
        if (degraded) {
          degraded = false;
          options.logger.info('request budget back in Redis');
        }
        return { wait, inRedis: true };
      } catch (error) {
        // Redis unreachable: this gateway's own budget, the same size, stands in (logged once per outage).
        if (!degraded) {
          degraded = true;
          options.logger.warn({ err: error }, 'request budget unavailable in Redis; enforcing it in this gateway only');
        }
      }
    }
    return { wait: await consume(local.get(limiter)!, key), inRedis: false };
  }

  const middleware: RequestHandler = async (req, res, next) => {
    try {
      // The address's budget is spent while the token is checked; the user's once it is known to be genuine.
      const ipSpent = spend(byIp, req.ip ?? req.socket.remoteAddress ?? 'unknown');
      const authenticated = await authenticate(req.headers.authorization, options.verifier);
      (req as Request & { authenticated?: Authenticated }).authenticated = authenticated;
      // A partner app's token spends its app's quota instead (partners/quotas.ts), never a user's budget.
      const user = authenticated.user && !authenticated.user.partner ? authenticated.user : null;
      const ip = await ipSpent;
      // When Redis just failed this request, the user's budget goes to memory at once: one request
      // waits for Redis at most one command timeout, not one per limit.
      const wait = Math.max(ip.wait, user ? (await spend(byUser, user.id, ip.inRedis)).wait : 0);
      if (wait > 0) return refuse(res, wait);
      next();
    } catch (error) {
      next(error);
    }
  };
  return { middleware, spendFor: async (user) => (user.partner ? 0 : (await spend(byUser, user.id)).wait) };
}

/** The refusal of an operation over budget, the same on every transport. */
export function overBudget(retryAfterSeconds: number): GraphQLError {
  return new GraphQLError(`Too many requests; try again in ${retryAfterSeconds} s.`, { extensions: { code: ErrorCode.RATE_LIMITED, retryAfterSeconds } });
}

function refuse(res: Response, retryAfterSeconds: number) {
  res.setHeader('retry-after', String(retryAfterSeconds));
  res.status(429).json({ errors: [overBudget(retryAfterSeconds).toJSON()] });
}

/**
 * A RATE_LIMITED error from a subgraph (sign-in lockout, registrations) keeps its
 * extensions.retryAfterSeconds through the gateway; this adds the Retry-After header, and 429
 * when nothing else of the response succeeded. The same for a subgraph's SERVICE_UNAVAILABLE that
 * says when to retry (its token check could not reach Redis): Retry-After, and 503 when nothing
 * else succeeded. A subgraph that is down (no retryAfterSeconds) keeps the partial 200 it had.
 */
export const retryAfterFromErrors: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        if (response.body.kind !== 'single') return;
        const { errors, data } = response.body.singleResult;
        const waitsOf = (code: string) =>
          (errors ?? [])
            .filter((e) => e.extensions?.code === code)
            .map((e) => Number(e.extensions?.retryAfterSeconds))
            .filter((s) => Number.isFinite(s) && s > 0);
        const limited = waitsOf(ErrorCode.RATE_LIMITED);
        const unavailable = waitsOf(ErrorCode.SERVICE_UNAVAILABLE);
        const waits = [...limited, ...unavailable];
        if (waits.length === 0) return;
        // A whole-request refusal (the gateway's own token check) already carries its status and header.
        if (response.http.status === 503) return;
        response.http.headers.set('retry-after', String(Math.ceil(Math.max(...waits))));
        if (data == null || Object.values(data).every((v) => v === null)) response.http.status = limited.length ? 429 : 503;
      },
    };
  },
};
