import type { Request, RequestHandler, Response } from 'express';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { authenticate, type AuthUser, type TokenVerifier } from '@analytica/auth';
import { ErrorCode } from '@analytica/errors';
import type { Logger } from '@analytica/logger';
import type { Redis } from '@analytica/redis';

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
 */
export function requestBudget(options: { redis: Redis; verifier: TokenVerifier; logger: Logger; perUserPerMinute: number; perIpPerMinute: number }): RequestHandler {
  return createRequestBudget(options).middleware;
}

/** The request budget for every transport: one budget per user, whether operations come over HTTP, SSE or a WebSocket. */
export function createRequestBudget(options: { redis: Redis; verifier: TokenVerifier; logger: Logger; perUserPerMinute: number; perIpPerMinute: number }): RequestBudget {
  const byUser = new RateLimiterRedis({ storeClient: options.redis, keyPrefix: 'limits:gateway:user', points: options.perUserPerMinute, duration: 60 });
  const byIp = new RateLimiterRedis({ storeClient: options.redis, keyPrefix: 'limits:gateway:ip', points: options.perIpPerMinute, duration: 60 });

  async function spend(limiter: RateLimiterRedis, key: string): Promise<number> {
    try {
      await limiter.consume(key);
      return 0;
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      // Redis unreachable: the budget is not enforced (tokens still fail closed in the verifier).
      options.logger.warn({ err: rejection }, 'request budget unavailable');
      return 0;
    }
  }

  const middleware: RequestHandler = async (req, res, next) => {
    try {
      // The address's budget is spent while the token is checked; the user's once it is known to be genuine.
      const ipWait = spend(byIp, req.ip ?? req.socket.remoteAddress ?? 'unknown');
      const authenticated = await authenticate(req.headers.authorization, options.verifier);
      (req as Request & { authenticated?: Authenticated }).authenticated = authenticated;
      // A partner app's token spends its app's quota instead (partners/quotas.ts), never a user's budget.
      const user = authenticated.user && !authenticated.user.partner ? authenticated.user : null;
      const waits = await Promise.all([ipWait, user ? spend(byUser, user.id) : 0]);
      const wait = Math.max(...waits);
      if (wait > 0) return refuse(res, wait);
      next();
    } catch (error) {
      next(error);
    }
  };
  return { middleware, spendFor: (user) => (user.partner ? Promise.resolve(0) : spend(byUser, user.id)) };
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
 * when nothing else of the response succeeded.
 */
export const retryAfterFromErrors: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        if (response.body.kind !== 'single') return;
        const { errors, data } = response.body.singleResult;
        const waits = (errors ?? [])
          .filter((e) => e.extensions?.code === ErrorCode.RATE_LIMITED)
          .map((e) => Number(e.extensions?.retryAfterSeconds))
          .filter((s) => Number.isFinite(s) && s > 0);
        if (waits.length === 0) return;
        response.http.headers.set('retry-after', String(Math.ceil(Math.max(...waits))));
        if (data == null || Object.values(data).every((v) => v === null)) response.http.status = 429;
      },
    };
  },
};
