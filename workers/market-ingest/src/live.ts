import type { Logger } from '@analytica/logger';
import type { Region } from '@analytica/instruments';
import { MAX_MOVERS, moversChannel, moversKey, priceAlertTriggerPayload, publishedMoversKey, type AlertRule } from '@analytica/market-subgraph/store';
import type { Redis } from '@analytica/redis';
import { createLivePublisher } from '@analytica/redis/live';
import type { Tick } from './ticks.js';

/** An alert a batch fired, and the tick that crossed its threshold. */
export interface FiredAlert {
  rule: AlertRule;
  tick: Tick;
}

/**
 * `priceAlertTriggered` for each alert's owner, on their own caller channel, with the firing's
 * own fields (priceAlertTriggerPayload): what the worker knows. Anything else a subscriber selects
 * (the alert, its instrument) the gateway fetches from the market subgraph by the trigger's key.
 * Best effort: a failure is logged and costs the owner the live notice, never the email.
 */
export function createLiveAlerts(deps: { redis: Redis; channelPrefix: string; logger: Logger }) {
  const live = createLivePublisher(deps.redis, deps.channelPrefix);
  return async function publishAlerts(fired: readonly FiredAlert[]): Promise<void> {
    const results = await Promise.allSettled(
      fired.map(({ rule, tick }) => live.toUser('PriceAlertTrigger', rule.userId, priceAlertTriggerPayload(rule, tick.symbol, tick.last, tick.exchangeTime))),
    );
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) deps.logger.warn({ err: failure.reason, alerts: fired.length }, 'could not publish price alerts live');
  };
}

/**
 * Reads a region's ranking (the symbols of its gainers and of its losers, as `readMovers` in the
 * market subgraph ranks them) and, if it differs from the one last published and none was
 * published in the last ARGV[2] ms, records it as published (the hash the Movers entity reads)
 * and publishes `Movers.<region>`, the key only. One script: the ranking announced and the one
 * recorded are the same, and several workers, each writing the symbols of its own partitions,
 * publish at most once an interval per region between them.
 * Returns -1 when it published, 0 when the ranking is unchanged, else the ms to wait.
 */
const MOVERS_PUBLISH_LUA = `
local depth = tonumber(ARGV[1])
local gainers = table.concat(redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', '(0', 'LIMIT', 0, depth), ',')
local losers = table.concat(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(0', 'LIMIT', 0, depth), ',')
local published = redis.call('HMGET', KEYS[2], 'gainers', 'losers')
if published[1] == gainers and published[2] == losers then return 0 end
local wait = redis.call('PTTL', KEYS[3])
if wait > 0 then return wait end
redis.call('SET', KEYS[3], '1', 'PX', tonumber(ARGV[2]))
local now = redis.call('TIME')
redis.call('HSET', KEYS[2], 'gainers', gainers, 'losers', losers, 'time', now[1] * 1000 + math.floor(now[2] / 1000))
redis.call('PUBLISH', ARGV[3], ARGV[4])
return -1`;

/** The once-an-interval gate of a region's movers events; the same hash tag as its movers set. */
export const moversGateKey = (region: Region) => `movers-gate:{${region}}`;

interface MoversWriter {
  marketMoversPublish(moversKey: string, publishedKey: string, gateKey: string, depth: number, gapMs: number, channel: string, message: string): Promise<number>;
}

/**
 * Publishes `Movers.<region>` after quote writes that changed a region's ranking, at most once per
 * `intervalMs` per region. A region written to is checked at once if it was not checked in the
 * last interval, else when the interval is over, so that the last change of a burst is published
 * too (at most one interval late).
 */
export function createMoversPublisher(deps: { redis: Redis; channelPrefix: string; logger: Logger; intervalMs?: number }) {
  const intervalMs = deps.intervalMs ?? 1000;
  (deps.redis as unknown as { defineCommand(name: string, def: { numberOfKeys: number; lua: string }): void }).defineCommand('marketMoversPublish', {
    numberOfKeys: 3,
    lua: MOVERS_PUBLISH_LUA,
  });
  interface RegionState {
    lastCheck: number;
    timer?: NodeJS.Timeout;
    /** A check is running; a write meanwhile may not be in what it read, so it asks for another. */
    running: boolean;
    again: boolean;
  }
  const regions = new Map<Region, RegionState>();
  let stopped = false;

  function schedule(region: Region, delayMs?: number) {
    let state = regions.get(region);
    if (!state) regions.set(region, (state = { lastCheck: -Infinity, running: false, again: false }));
    if (stopped) return;
    if (state.running) {
      state.again = true;
      return;
    }
    if (state.timer) return;
    const delay = delayMs ?? Math.max(0, state.lastCheck + intervalMs - Date.now());
    const current = state;
    state.timer = setTimeout(() => void check(region, current), delay);
    state.timer.unref();
  }

  async function check(region: Region, state: RegionState) {
    state.timer = undefined;
    state.running = true;
    state.again = false;
    state.lastCheck = Date.now();
    let retryInMs: number | undefined;
    try {
      const outcome = await (deps.redis as unknown as MoversWriter).marketMoversPublish(
        moversKey(region),
        publishedMoversKey(region),
        moversGateKey(region),
        // Deep enough for any `gainers(limit)` / `losers(limit)` a client may ask for.
        MAX_MOVERS,
        intervalMs,
        deps.channelPrefix + moversChannel(region),
        JSON.stringify({ __typename: 'Movers', region }),
      );
      // Another worker published within the interval: look again once its gate is over.
      if (outcome > 0) retryInMs = outcome;
    } catch (err) {
      deps.logger.warn({ err, region }, 'could not publish the movers of a region');
    } finally {
      state.running = false;
    }
    if (retryInMs !== undefined) schedule(region, retryInMs);
    else if (state.again) schedule(region);
  }

  return {
    /** The regions whose movers a batch just wrote. */
    written(written: Iterable<Region>) {
      for (const region of written) schedule(region);
    },
    stop() {
      stopped = true;
      for (const state of regions.values()) clearTimeout(state.timer);
    },
  };
}
