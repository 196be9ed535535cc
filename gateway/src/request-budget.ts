import type { Request, RequestHandler, Response } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
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
 * The budgets the requests of one moment spend, in one Redis script: per key a fixed one-minute
 * window (INCRBY by the number of those requests that spend it, the window's expiry set by its
 * first request), as rate-limiter-flexible's RateLimiterRedis counts. Answers, per key, the count
 * after the increment and the milliseconds until the window ends.
 *
 * Why together (issue 18): one script call per request was a tenth of the gateway's busy time
 * under load (the command's socket write and its reply), while the requests that arrive in the
 * same turn of the event loop can share one call. The counts stay exact: the requests of a batch
 * take their places in the window one after another, in the order they arrived, as if their calls
 * had run back to back (see spendTogether).
 */
const SPEND_BUDGETS = `
local counts = {}
for i, key in ipairs(KEYS) do
  local used = redis.call('INCRBY', key, ARGV[i + 1])
  local left = redis.call('PTTL', key)
  if left < 0 then
    redis.call('PEXPIRE', key, ARGV[1])
    left = tonumber(ARGV[1])
  end
  counts[2 * i - 1] = used
  counts[2 * i] = left
end
return counts`;
const WINDOW_MS = 60_000;
/** At most this many requests share one script call (bounds the script's time in Redis). */
const MAX_BATCH = 256;

/**
 * A budget's requests taken from Redis ahead of use by this gateway (issue 18). A key that comes
 * back to Redis within its window takes twice as many ahead as last time (none the first time),
 * up to LEASE_MAX and a fiftieth of the budget; the next requests spend them here without a Redis
 * call. Leased requests are counted in Redis when taken, so all gateways together never let more
 * than the budget through; what one gateway holds unspent when its window ends (at most the cap)
 * is lost to the caller, the price of not asking Redis for every request. Once a window is spent
 * in Redis, this gateway refuses that budget's requests itself until the window ends: the count
 * only grows within a window, so the answer cannot change.
 */
interface Lease {
  /** Requests leased and not yet spent here. */
  left: number;
  /** When the window ends (ms since the epoch, from the key's time to live in Redis). */
  until: number;
  /** How many were taken ahead last time. */
  size: number;
  /** The window's count in Redis has reached the budget. */
  spent: boolean;
}
const LEASE_MAX = 64;
/** Leases kept at once; beyond it ended windows, then the least recently used, are forgotten. */
const MAX_LEASES = 10_000;

const leaseSizeFor = (lease: Lease | undefined, limit: number, now: number) =>
  lease === undefined || lease.until <= now ? 0 : Math.min(LEASE_MAX, Math.floor(limit / 50), Math.max(1, lease.size * 2));

type BudgetRedis = Redis & { spendBudgetsBy(keyCount: number, ...keysWindowMsThenIncrements: (string | number)[]): Promise<number[]> };

/** One request's spend waiting for its batch. */
interface PendingSpend {
  keys: string[];
  limits: number[];
  resolve(wait: number): void;
  reject(error: unknown): void;
}

/**
 * A request budget per signed-in user and per address, in Redis so that every gateway instance
 * spends from the same one. Every request counts for its address; a signed-in one counts for its
 * user too, in the same Redis call once the token is known to be genuine. Over budget: 429,
 * RATE_LIMITED, Retry-After.
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
export function createRequestBudget(options: {
  redis: Redis;
  verifier: TokenVerifier;
  logger: Logger;
  perUserPerMinute: number;
  perIpPerMinute: number;
  /** The length of a budget's window; one minute (the variables are per minute). Shorter only in tests. */
  windowMs?: number;
}): RequestBudget {
  const guard = redisGuard(options.redis);
  const redis = options.redis as BudgetRedis;
  const windowMs = options.windowMs ?? WINDOW_MS;
  if (typeof redis.spendBudgetsBy !== 'function') redis.defineCommand('spendBudgetsBy', { lua: SPEND_BUDGETS });
  const local = {
    user: new RateLimiterMemory({ keyPrefix: 'user', points: options.perUserPerMinute, duration: windowMs / 1000 }),
    ip: new RateLimiterMemory({ keyPrefix: 'ip', points: options.perIpPerMinute, duration: windowMs / 1000 }),
  };
  let degraded = false;

  /** What a request spends: its address's budget, and its user's when it has one. */
  type Spend = { ip?: string; userId?: string };

  const keysOf = ({ ip, userId }: Spend) => {
    const keys: string[] = [];
    const limits: number[] = [];
    if (ip !== undefined) {
      keys.push(`limits:gateway:ip:${ip}`);
      limits.push(options.perIpPerMinute);
    }
    if (userId !== undefined) {
      keys.push(`limits:gateway:user:${userId}`);
      limits.push(options.perUserPerMinute);
    }
    return { keys, limits };
  };

  /**
   * Spends waiting for the next script call. One call is in flight at a time: the spends that
   * arrive while it is (over any number of turns of the event loop) go together in the next, sent
   * as soon as its answer is back. Under load that is one call per Redis round trip instead of
   * one per turn, which at 1,400 requests/s had been nearly one per request (each a socket write
   * and a read in the gateway and a script run in Redis); alone, a spend waits for nothing more.
   */
  const queued: PendingSpend[] = [];
  let calling = false;
  const leases = new Map<string, Lease>();

  /**
   * Spends the request from this gateway's leases when each budget it spends has a leased request
   * left or is known to be spent until its window ends; undefined when Redis must be asked. The
   * answer is 0, or the seconds to wait when one of them is spent. A refused request still spends
   * the others (as in Redis, where every request counts for each budget it spends).
   */
  function spendLeased(keys: string[]): number | undefined {
    const now = Date.now();
    let wait = 0;
    for (const key of keys) {
      const lease = leases.get(key);
      if (!lease || lease.until <= now) return undefined;
      if (lease.left >= 1) continue;
      if (!lease.spent) return undefined;
      wait = Math.max(wait, Math.max(1, Math.ceil((lease.until - now) / 1000)));
    }
    for (const key of keys) {
      const lease = leases.get(key)!;
      if (lease.left >= 1) lease.left -= 1;
    }
    return wait;
  }

  async function spendInRedis(what: Spend): Promise<number> {
    const { keys, limits } = keysOf(what);
    const leased = spendLeased(keys);
    if (leased !== undefined) return leased;
    // rejectIfRedisNotReady's equivalent: while the connection is down, fail at once instead of queueing.
    if (redis.status !== 'ready') throw new Error(`redis connection is ${redis.status}`);
    return new Promise<number>((resolve, reject) => {
      queued.push({ keys, limits, resolve, reject });
      if (calling) return; // the call in flight sends this one next
      // setImmediate, not a microtask: the requests whose bytes arrived in this poll phase all join.
      if (queued.length === 1) setImmediate(() => void spendTogether());
      else if (queued.length >= MAX_BATCH) void spendTogether();
    });
  }

  /** One script call for the queued spends (at most MAX_BATCH, oldest first); each learns its own place in each window it spends. */
  async function spendTogether() {
    if (calling || queued.length === 0) return;
    calling = true;
    const batch = queued.splice(0, MAX_BATCH);
    try {
      await spendBatch(batch);
    } finally {
      calling = false;
      void spendTogether();
    }
  }

  async function spendBatch(batch: PendingSpend[]) {
    const now = Date.now();
    // Per key: the requests of this batch that spend it, and the requests taken ahead (the lease).
    const wanted = new Map<string, { requests: number; ahead: number; limit: number }>();
    for (const spend of batch) {
      spend.keys.forEach((key, i) => {
        const entry = wanted.get(key);
        if (entry) entry.requests += 1;
        else wanted.set(key, { requests: 1, ahead: leaseSizeFor(leases.get(key), spend.limits[i]!, now), limit: spend.limits[i]! });
      });
    }
    const keys = [...wanted.keys()];
    const increments = keys.map((key) => wanted.get(key)!.requests + wanted.get(key)!.ahead);
    let counts: number[];
    try {
      counts = await guard.run(() => redis.spendBudgetsBy(keys.length, ...keys, windowMs, ...increments));
    } catch (error) {
      for (const spend of batch) spend.reject(error);
      return;
    }
    const answeredAt = Date.now();
    // The count each key had before this batch, plus one per request of the batch in arrival order.
    const next = new Map<string, { count: number; leftMs: number }>();
    keys.forEach((key, i) => {
      const { requests, ahead, limit } = wanted.get(key)!;
      const after = counts[2 * i]!;
      const leftMs = counts[2 * i + 1]!;
      const before = after - increments[i]!;
      next.set(key, { count: before + 1, leftMs });
      // What was taken ahead and is still within the budget becomes this gateway's lease.
      const granted = Math.max(0, Math.min(ahead, limit - (before + requests)));
      const lease = leases.get(key);
      const live = lease !== undefined && lease.until > answeredAt;
      leases.delete(key); // re-inserted last: the map stays in order of use for the sweep below
      leases.set(key, { left: (live ? lease.left : 0) + granted, until: answeredAt + leftMs, size: ahead, spent: after >= limit });
    });
    forgetOldLeases(answeredAt);
    for (const spend of batch) {
      let wait = 0;
      spend.keys.forEach((key, i) => {
        const window = next.get(key)!;
        if (window.count > spend.limits[i]!) wait = Math.max(wait, Math.max(1, Math.ceil(window.leftMs / 1000)));
        window.count++;
      });
      spend.resolve(wait);
    }
  }

  /** Keeps the leases map bounded: ended windows go first, then the least recently renewed, down to nine tenths. */
  function forgetOldLeases(now: number) {
    if (leases.size <= MAX_LEASES) return;
    for (const [key, lease] of leases) if (lease.until <= now) leases.delete(key);
    for (const key of leases.keys()) {
      if (leases.size <= MAX_LEASES * 0.9) break;
      leases.delete(key);
    }
  }

  async function spendInMemory({ ip, userId }: Spend): Promise<number> {
    const waits = await Promise.all([ip === undefined ? 0 : consume(local.ip, ip), userId === undefined ? 0 : consume(local.user, userId)]);
    return Math.max(...waits);
  }

  // npm start's in-process Redis stand-in (no connection status) runs no Lua; it serves one process,
  // so this gateway's memory holds the same budgets there.
  const inProcess = redis.status === undefined;

  /** Seconds to wait, 0 when within budget: in Redis, or in this gateway's memory while Redis is away. */
  async function spend(what: Spend): Promise<number> {
    if (inProcess) return spendInMemory(what);
    try {
      const wait = await spendInRedis(what);
      if (degraded) {
        degraded = false;
        options.logger.info('request budget back in Redis');
      }
      return wait;
    } catch (error) {
      // Redis unreachable: this gateway's own budgets, the same size, stand in (logged once per outage).
      if (!degraded) {
        degraded = true;
        options.logger.warn({ err: error }, 'request budget unavailable in Redis; enforcing it in this gateway only');
      }
      return spendInMemory(what);
    }
  }

  const middleware: RequestHandler = async (req, res, next) => {
    try {
      const authenticated = await authenticate(req.headers.authorization, options.verifier);
      (req as Request & { authenticated?: Authenticated }).authenticated = authenticated;
      // A partner app's token spends its app's quota instead (partners/quotas.ts), never a user's budget.
      const user = authenticated.user && !authenticated.user.partner ? authenticated.user : null;
      const wait = await spend({ ip: req.ip ?? req.socket.remoteAddress ?? 'unknown', ...(user ? { userId: user.id } : {}) });
      if (wait > 0) return refuse(res, wait);
      next();
    } catch (error) {
      next(error);
    }
  };
  return { middleware, spendFor: async (user) => (user.partner ? 0 : spend({ userId: user.id })) };
}

/** Seconds to wait on a memory limiter, 0 when within budget. */
function consume(limiter: RateLimiterMemory, key: string): Promise<number> {
  return limiter.consume(key).then(
    () => 0,
    (rejection: unknown) => {
      if (rejection instanceof RateLimiterRes) return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw rejection;
    },
  );
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
