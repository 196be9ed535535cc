import type { Region } from '@analytica/instruments';
import { entityChannel } from '@analytica/redis/live';

// Every Redis key and channel of market data, written by the ingest worker and the market subgraph
// alike (both after REDIS_KEY_PREFIX). A symbol's keys carry the hash tag `{REGION:SYMBOL}`, a
// region's `{REGION}`: on Redis Cluster each lands on one slot, and region first keeps the shard
// layout of the Kafka keys.

/**
 * `quote:{US:AAPL}`, a hash: the latest quote of one symbol (quote-codec.ts says what it holds). The
 * ingest worker writes it with every tick; the market subgraph seeds it and reads it.
 */
export const quoteKey = (region: Region, symbol: string) => `quote:{${region}:${symbol}}`;

/**
 * The Redis channel a symbol's quote changes are published on (after REDIS_KEY_PREFIX): the
 * gateway serves `Subscription.quote(symbol)` and `quotes(symbols)` by listening to
 * `<Entity>.<key>` for each key the argument names, as for every subscription field. The message
 * is `quoteMessage`.
 */
export const quoteChannel = (symbol: string) => entityChannel('Quote', symbol);

/** One sorted set per region: member symbol, score changePercent; the ingest worker keeps it current. */
export const moversKey = (region: Region) => `movers:{${region}}`;

/**
 * `movers-published:{EU}`, a hash: the ranking the ingest worker last published on `Movers.<region>`
 * (`gainers` and `losers`, comma-separated symbols, MAX_MOVERS deep) and when (`time`, ms by the
 * Redis clock, which also times the once-a-second gate). The
 * worker's publish script writes it with the message, so whoever reads it after an event reads
 * the ranking that event announced, never one that changed and changed back in between.
 */
export const publishedMoversKey = (region: Region) => `movers-published:{${region}}`;

/** The channel of a region's live Movers entity (the message carries the key only). */
export const moversChannel = (region: Region) => entityChannel('Movers', region);

/** How deep a ranking is published: the most gainers or losers anyone may ask for. */
export const MAX_MOVERS = 50;

/**
 * `alerts:{US:AAPL}`: a hash of alertId → rule for one symbol (alerts.ts encodes the rules). Same
 * hash tag as the symbol's quote, so on Redis Cluster a symbol's quote and alerts share a slot;
 * the worker reads a symbol's alerts in one HGETALL, whatever the number of users.
 */
export const alertIndexKey = (region: Region, symbol: string) => `alerts:{${region}:${symbol}}`;

/**
 * Counts changes to the alert index (incremented after each one). The worker keeps the rules it
 * read and reads this one key per batch: a new value means some symbol's alerts changed, and it
 * reads again.
 */
export const ALERTS_VERSION_KEY = 'alerts:version';
