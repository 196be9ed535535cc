import type { Redis } from '@analytica/redis';
import { entityChannel } from '@analytica/redis/live';
import type { Instrument, Region } from './instruments.js';
import { venueStatus } from './venues.js';

export const MARKET_STATES = ['OPEN', 'CLOSED'] as const;
export type MarketState = (typeof MARKET_STATES)[number];

/** The latest quote of one instrument, as the feed leaves it in Redis. */
export interface Quote {
  symbol: string;
  currency: string;
  last: number;
  bid: number;
  ask: number;
  open: number;
  high: number;
  low: number;
  previousClose: number;
  change: number;
  changePercent: number;
  volume: number;
  /** Exchange time of the last trade; null while the quote is only the reference price seeded before any trade. */
  time: Date | null;
  marketState: MarketState;
  /** True when the live cache could not be read and the quote was rebuilt from stored candles. */
  stale: boolean;
}

/**
 * `quote:{US:AAPL}`, a hash. The braces are a Redis Cluster hash tag: every key of one symbol
 * (quote now; candles and alerts later) lands on one slot, and region first keeps the shard
 * layout of the Kafka keys (`region#symbol`). The ingest worker writes the same key.
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
 * Hash fields the ingest worker writes beside the quote: `seq` (the last tick applied, which makes
 * redelivered ticks harmless) and `sessionDate` (the venue's trading date the session fields belong to).
 */
export const QUOTE_FEED_FIELDS = ['seq', 'sessionDate'] as const;

// Prices are market data in the instrument's currency; four decimals keep float noise out of them.
export const price = (value: number) => Math.round(value * 10_000) / 10_000;

/** change and changePercent as every reader shows them (the worker writes them with this too). */
export function changeOf(last: number, previousClose: number): { change: number; changePercent: number } {
  const change = price(last - previousClose);
  return { change, changePercent: previousClose > 0 ? Math.round((change / previousClose) * 1_000_000) / 10_000 : 0 };
}

/**
 * The pub/sub message for a quote: the entity's typename and key plus every Quote field under its
 * GraphQL name and in its GraphQL serialisation (time as ISO 8601), so that it can be handed to a
 * client as the subscription's primary result.
 */
export function quoteMessage(quote: Quote): string {
  return JSON.stringify({ __typename: 'Quote', ...quote, time: quote.time?.toISOString() ?? null });
}

export function quoteFromHash(instrument: Instrument, hash: Record<string, string>): Quote | null {
  if (hash.last === undefined) return null;
  const num = (field: string) => {
    const value = Number(hash[field]);
    return Number.isFinite(value) ? value : 0;
  };
  const last = num('last');
  const previousClose = num('previousClose');
  return {
    symbol: instrument.symbol,
    currency: instrument.currency,
    last,
    bid: num('bid'),
    ask: num('ask'),
    open: num('open'),
    high: num('high'),
    low: num('low'),
    previousClose,
    ...changeOf(last, previousClose),
    volume: Math.trunc(num('volume')),
    // Only the ingest worker writes `seq`, and it writes `time` with each trade; a hash without a seq
    // is the reference seed (whose older versions wrote the seeding time here, which no venue reported).
    time: hash.seq && hash.time ? new Date(hash.time) : null,
    marketState: hash.marketState === 'OPEN' ? 'OPEN' : 'CLOSED',
    stale: false,
  };
}

/**
 * Reads many quotes in one Redis round trip (one pipeline of HGETALLs). On Redis Cluster the
 * client splits such a pipeline by node, which is one round trip per node, not per symbol.
 */
export async function readQuotes(redis: Redis, instruments: readonly Instrument[]): Promise<(Quote | null)[]> {
  if (instruments.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const instrument of instruments) pipeline.hgetall(quoteKey(instrument.region, instrument.symbol));
  const results = (await pipeline.exec()) ?? [];
  return instruments.map((instrument, n) => {
    const [error, hash] = results[n] ?? [new Error('no reply'), null];
    if (error) throw error;
    return quoteFromHash(instrument, hash as Record<string, string>);
  });
}

/**
 * A quote at the reference price, so a fresh system answers before the feed runs: no trade time
 * (there was no trade), and the venue's state by its hours until the feed reports its own.
 */
export function referenceQuote(instrument: Instrument, now: Date): Record<string, string> {
  const p = instrument.referencePrice;
  const halfSpread = price(p * 0.0002);
  return {
    last: String(p),
    bid: String(price(p - halfSpread)),
    ask: String(price(p + halfSpread)),
    open: String(p),
    high: String(p),
    low: String(p),
    previousClose: String(p),
    volume: '0',
    marketState: venueStatus(instrument.exchange, now).state,
  };
}

/** Gives every instrument that has no quote yet its reference quote; never overwrites a feed's quote. */
export async function seedMissingQuotes(redis: Redis, instruments: readonly Instrument[], now = new Date()): Promise<number> {
  const probe = redis.pipeline();
  for (const i of instruments) probe.exists(quoteKey(i.region, i.symbol));
  const exists = (await probe.exec()) ?? [];
  const missing = instruments.filter((_, n) => {
    const [error, count] = exists[n] ?? [new Error('no reply'), 0];
    if (error) throw error;
    return count === 0;
  });
  if (missing.length === 0) return 0;
  // HSETNX field by field: a tick that lands between the probe and this write is kept.
  const seed = redis.pipeline();
  for (const i of missing) {
    for (const [field, value] of Object.entries(referenceQuote(i, now))) seed.hsetnx(quoteKey(i.region, i.symbol), field, value);
  }
  for (const [error] of (await seed.exec()) ?? []) if (error) throw error;
  return missing.length;
}
