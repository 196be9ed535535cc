import { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import { attachGuard, DEFAULT_REDIS_BUDGET, hasGuard, redisGuard, type CircuitListener, type RedisBudget, type RedisGuard } from './budget.js';

export { Redis };
export {
  DEFAULT_REDIS_BUDGET,
  redisBudgetFromEnv,
  redisGuard,
  hasGuard,
  RedisUnavailableError,
  type BreakerState,
  type CircuitListener,
  type RedisBudget,
  type RedisGuard,
} from './budget.js';

/**
 * `redis://...` connects to a real server; `memory://` gives an in-process stand-in with the
 * same API (used only by the embedded run mode, never by tests of Redis behaviour).
 *
 * With `budget`, the connection serves a request path (token checks, rate limits): see
 * applyRedisBudget. Its commands also time out for callers that do not go through the guard
 * (ioredis `commandTimeout`: `backstopTimeoutMs`).
 */
export function createRedis(
  url: string,
  options: { keyPrefix?: string; name?: string; onError?: (error: Error) => void; budget?: Partial<RedisBudget>; onCircuit?: CircuitListener } = {},
): Redis {
  if (url.startsWith('memory://')) {
    const mock = new (RedisMock as unknown as typeof Redis)({ keyPrefix: options.keyPrefix });
    // Every client of the one in-memory Redis listens on its shared key-change emitter (for WATCH);
    // embedded mode makes a dozen of them on purpose, which is no leak: no listener limit there.
    (mock as unknown as { context?: { modifiedKeyEvents?: { setMaxListeners(n: number): void } } }).context?.modifiedKeyEvents?.setMaxListeners(0);
    return mock;
  }
  const budget = options.budget ? { ...DEFAULT_REDIS_BUDGET, ...options.budget } : undefined;
  const client = new Redis(url, {
    keyPrefix: options.keyPrefix,
    connectionName: options.name,
    maxRetriesPerRequest: 2,
    // Kept on: commands sent while the connection is still being made at start would otherwise
    // fail. With a budget, the guard bounds what waits there (maxPending, the command timeout).
    enableOfflineQueue: true,
    lazyConnect: false,
    ...(budget ? { connectTimeout: Math.max(1000, 2 * budget.commandTimeoutMs) } : {}),
  });
  // ioredis reconnects by itself; without a listener it would print every lost connection to stderr.
  client.on('error', options.onError ?? (() => {}));
  if (budget) applyRedisBudget(client, budget, options.onCircuit);
  return client;
}

/**
 * The time limit ioredis itself puts on every command of a budgeted connection: for calls that do
 * not go through the guard (sign-in limits, revocation writes, live events), so that none waits
 * for ever. Generous (4 times the guard's limit, at least 2 s): unlike the guard's timer, ioredis's
 * does not give the event loop a turn to read an answer that arrived during a stall.
 */
export const backstopTimeoutMs = (budget: RedisBudget) => Math.max(2000, 4 * budget.commandTimeoutMs);

/**
 * Puts a connection on a request path's budget (what createRedis's `budget` does), for one made
 * without: a service that hands its connection to the token verifier. Its commands then time out,
 * a command queued while disconnected fails after one reconnection attempt, reconnection is tried
 * at least every `reconnectMaxDelayMs`, and its guard probes as soon as it is connected again. A
 * connection that already has a guard keeps it; the in-process stand-in only gets a guard.
 */
export function applyRedisBudget(redis: Redis, budget: Partial<RedisBudget> = {}, onCircuit?: CircuitListener): RedisGuard {
  if (hasGuard(redis) || !(redis instanceof Redis)) return redisGuard(redis, budget);
  const full = { ...DEFAULT_REDIS_BUDGET, ...budget };
  // ioredis reads these at each command and each reconnection, so they apply to an open connection too.
  Object.assign(redis.options, {
    commandTimeout: backstopTimeoutMs(full),
    maxRetriesPerRequest: 1,
    retryStrategy: (times: number) => Math.min(times * 100, full.reconnectMaxDelayMs),
  });
  return attachGuard(redis, full, onCircuit);
}

export async function pingRedis(redis: Redis) {
  const answer = await redis.ping();
  if (answer !== 'PONG') throw new Error(`unexpected PING answer ${answer}`);
}
