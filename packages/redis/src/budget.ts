import type { Redis } from 'ioredis';

/**
 * How long a request may wait for Redis, and when to stop asking (issue 20). Redis that stops
 * answering (paused clients, a proxy that holds the bytes, a dead host behind a live TCP
 * connection) otherwise leaves every command waiting for ever: ioredis has no command timeout by
 * default and queues commands while it reconnects.
 */
export interface RedisBudget {
  /** A command not answered within this is given up (REDIS_COMMAND_TIMEOUT_MS). */
  commandTimeoutMs: number;
  /** This many failures in a row open the breaker: calls then fail at once (REDIS_BREAKER_FAILURES). */
  breakerFailures: number;
  /** How long an open breaker fails calls before letting one through to probe (REDIS_BREAKER_OPEN_MS). */
  breakerOpenMs: number;
  /** Calls waiting for Redis at once beyond which new ones fail at once: the bound on queued work (REDIS_MAX_PENDING). */
  maxPending: number;
  /** Longest wait between two reconnection attempts (REDIS_RECONNECT_MAX_DELAY_MS). */
  reconnectMaxDelayMs: number;
}

export const DEFAULT_REDIS_BUDGET: RedisBudget = {
  commandTimeoutMs: 500,
  breakerFailures: 3,
  breakerOpenMs: 500,
  maxPending: 1000,
  reconnectMaxDelayMs: 250,
};

/** The budget from a service's validated environment (packages/config `redisEnv`); missing values take the defaults. */
export function redisBudgetFromEnv(env: {
  REDIS_COMMAND_TIMEOUT_MS?: number;
  REDIS_BREAKER_FAILURES?: number;
  REDIS_BREAKER_OPEN_MS?: number;
  REDIS_MAX_PENDING?: number;
  REDIS_RECONNECT_MAX_DELAY_MS?: number;
}): RedisBudget {
  return {
    commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS ?? DEFAULT_REDIS_BUDGET.commandTimeoutMs,
    breakerFailures: env.REDIS_BREAKER_FAILURES ?? DEFAULT_REDIS_BUDGET.breakerFailures,
    breakerOpenMs: env.REDIS_BREAKER_OPEN_MS ?? DEFAULT_REDIS_BUDGET.breakerOpenMs,
    maxPending: env.REDIS_MAX_PENDING ?? DEFAULT_REDIS_BUDGET.maxPending,
    reconnectMaxDelayMs: env.REDIS_RECONNECT_MAX_DELAY_MS ?? DEFAULT_REDIS_BUDGET.reconnectMaxDelayMs,
  };
}

/**
 * Redis could not be asked (timed out, connection down, breaker open, too much already waiting):
 * no verdict on anything. Callers turn it into their documented outage answer (SERVICE_UNAVAILABLE,
 * a cached verdict, a local limiter), never into a refusal of the caller.
 */
export class RedisUnavailableError extends Error {
  readonly dependency = 'redis';
  constructor(
    message: string,
    /** When to try again: the time until the breaker lets a probe through, at least 1 s. */
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RedisUnavailableError';
  }
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface RedisGuard {
  /** Runs one call to Redis within the budget; rejects with RedisUnavailableError when Redis cannot answer. */
  run<T>(call: () => Promise<T>): Promise<T>;
  state(): BreakerState;
  readonly budget: RedisBudget;
}

const guards = new WeakMap<object, RedisGuard>();

/**
 * The guard of one Redis client: every request-path caller of the client shares it, so that a
 * revocation check that timed out also makes the rate limiter fail fast, and the other way round.
 * createRedis makes it with the connection's budget; for a client made elsewhere, the first caller's
 * budget (or the default) applies.
 */
export function redisGuard(redis: Redis, budget: Partial<RedisBudget> = {}): RedisGuard {
  let guard = guards.get(redis);
  if (!guard) {
    guard = createGuard({ ...DEFAULT_REDIS_BUDGET, ...budget });
    guards.set(redis, guard);
  }
  return guard;
}

export const hasGuard = (redis: Redis) => guards.has(redis);

/**
 * Called by applyRedisBudget: the connection's guard, which probes with PING in the background
 * while open (so no caller's request is spent on a probe, and recovery does not wait for traffic),
 * and at once when the connection is made again.
 */
export function attachGuard(redis: Redis, budget: RedisBudget, onCircuit?: CircuitListener): RedisGuard {
  const guard = createGuard(budget, () => redis.ping(), onCircuit);
  guards.set(redis, guard);
  redis.on('ready', () => guard.reconnected());
  return guard;
}

/**
 * Closed: calls go to Redis. `breakerFailures` failures in a row open it: calls fail at once. With
 * a `probe` (a real connection), a PING every `breakerOpenMs` closes it again once answered; without
 * one (a client the guard cannot ping), the first call after `breakerOpenMs` is let through as the
 * probe (half-open) while the others still fail at once.
 */
/** Told when the circuit opens (with the failure that opened it) and when it closes again (with how long it was open). */
export type CircuitListener = (change: { state: 'open'; cause: unknown } | { state: 'closed'; openForMs: number }) => void;

function createGuard(budget: RedisBudget, probe?: () => Promise<unknown>, onCircuit?: CircuitListener): RedisGuard & { reconnected(): void } {
  let outageStartedAt: number | null = null;
  let failures = 0;
  let openedAt: number | null = null;
  let probing = false;
  let pending = 0;
  let probeTimer: NodeJS.Timeout | undefined;
  let probeAgain = false;

  const retryAfter = () => Math.max(1, Math.ceil((openedAt === null ? budget.breakerOpenMs : openedAt + budget.breakerOpenMs - Date.now()) / 1000));
  const state = (): BreakerState => {
    if (openedAt === null) return 'closed';
    if (probe) return 'open';
    return Date.now() - openedAt >= budget.breakerOpenMs ? 'half-open' : 'open';
  };

  function close() {
    failures = 0;
    openedAt = null;
    if (outageStartedAt !== null) {
      onCircuit?.({ state: 'closed', openForMs: Date.now() - outageStartedAt });
      outageStartedAt = null;
    }
    clearTimeout(probeTimer);
    probeTimer = undefined;
  }

  function open(cause?: unknown) {
    openedAt = Date.now();
    if (outageStartedAt === null) {
      outageStartedAt = openedAt;
      onCircuit?.({ state: 'open', cause });
    }
    if (probe && !probeTimer && !probing) {
      probeTimer = setTimeout(() => void probeNow(), budget.breakerOpenMs);
      // A probe alone does not keep a process alive that is otherwise done.
      probeTimer.unref();
    }
  }

  async function probeNow() {
    clearTimeout(probeTimer);
    probeTimer = undefined;
    if (!probe || openedAt === null) return;
    if (probing) {
      // One is out on the old connection: probe again on the new one as soon as it is back.
      probeAgain = true;
      return;
    }
    probing = true;
    let answered: boolean;
    try {
      await withTimeout(probe(), budget.commandTimeoutMs);
      answered = true;
    } catch (error) {
      answered = isReplyError(error);
    }
    probing = false;
    // Still failing: the next probe after another open period (open() schedules it).
    if (answered) close();
    else open();
    if (probeAgain) {
      probeAgain = false;
      await probeNow();
    }
  }

  function failed(cause: unknown) {
    failures++;
    if (probing || failures >= budget.breakerFailures) open(cause);
  }

  return {
    budget,
    state,
    reconnected() {
      // A fresh connection is worth a probe now rather than at the end of the open period.
      if (openedAt === null) return;
      if (probe) void probeNow();
      else openedAt = Date.now() - budget.breakerOpenMs;
    },
    async run<T>(call: () => Promise<T>): Promise<T> {
      const now = state();
      if (now === 'open' || (now === 'half-open' && probing)) {
        throw new RedisUnavailableError('Redis is not answering (circuit open); not asked.', retryAfter());
      }
      if (pending >= budget.maxPending) {
        throw new RedisUnavailableError(`Redis already has ${pending} calls waiting; not asked.`, retryAfter());
      }
      const asProbe = now === 'half-open';
      if (asProbe) probing = true;
      pending++;
      try {
        const value = await withTimeout(call(), budget.commandTimeoutMs);
        close();
        return value;
      } catch (error) {
        // An error Redis itself answered (WRONGTYPE, a script error) proves it is up: not an outage.
        if (isReplyError(error)) {
          close();
          throw error;
        }
        failed(error);
        const message = error instanceof TimedOut ? error.message : `Redis could not be reached: ${(error as Error).message}`;
        throw new RedisUnavailableError(message, retryAfter(), { cause: error });
      } finally {
        pending--;
        if (asProbe) probing = false;
      }
    },
  };
}

class TimedOut extends Error {}
const isReplyError = (error: unknown) => error instanceof Error && error.name === 'ReplyError';

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // Timers run before the loop reads its sockets: after a stall longer than `ms` (a busy
    // machine, a long GC) the timer would fire although Redis's answer is already waiting to be
    // read. Give the loop's I/O phase one turn first, so only a real silence counts as a timeout.
    const timer = setTimeout(() => setImmediate(() => reject(new TimedOut(`Redis did not answer within ${ms} ms`))), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
