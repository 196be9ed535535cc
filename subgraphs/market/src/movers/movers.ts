import { AppError, ErrorCode, badInput } from '@analytica/errors';
import type { Region } from '@analytica/instruments';
import type { Redis } from '@analytica/redis';
import type { MarketContext } from '../context.js';
import type { Quote } from '../store/quote-codec.js';
import { MAX_MOVERS, moversKey, publishedMoversKey } from '../store/redis-keys.js';

export const MOVER_DIRECTIONS = ['GAINERS', 'LOSERS'] as const;
export type MoverDirection = (typeof MOVER_DIRECTIONS)[number];

/**
 * The symbols of a region that moved most today, in order: gainers from the highest change
 * percent down, losers from the lowest up; only those that moved that way at all. One sorted-set
 * read, whatever the size of the region: the ingest worker keeps each symbol's score current.
 */
export async function readMovers(redis: Redis, region: Region, direction: MoverDirection, limit: number): Promise<string[]> {
  return direction === 'GAINERS'
    ? redis.zrevrangebyscore(moversKey(region), '+inf', '(0', 'LIMIT', 0, limit)
    : redis.zrangebyscore(moversKey(region), '-inf', '(0', 'LIMIT', 0, limit);
}

export interface PublishedRanking {
  GAINERS: string[];
  LOSERS: string[];
  time: Date;
}

/** The ranking last published for a region (publishedMoversKey, written by the ingest worker's script); null before the first. */
export async function readPublishedMovers(redis: Redis, region: Region): Promise<PublishedRanking | null> {
  const [gainers, losers, time] = await redis.hmget(publishedMoversKey(region), 'gainers', 'losers', 'time');
  if (gainers == null || losers == null || time == null) return null;
  const symbols = (list: string) => (list ? list.split(',') : []);
  return { GAINERS: symbols(gainers), LOSERS: symbols(losers), time: new Date(Number(time)) };
}

/**
 * The quotes of a region's movers, as the `movers` query (from the live ranking) and the live
 * `Movers` entity (from the published one) answer them: one read of the ranking, then the quotes in
 * one round trip. Movers are ranked live in Redis, and stored candles cannot rank a region cheaply,
 * so a Redis that cannot be read is SERVICE_UNAVAILABLE.
 */
export async function moverQuotes(ctx: MarketContext, region: Region, direction: MoverDirection, limit: number, published?: PublishedRanking | null): Promise<Quote[]> {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_MOVERS) throw badInput('limit', `Ask for 1 to ${MAX_MOVERS} movers.`);
  let symbols: string[];
  try {
    symbols = published ? published[direction].slice(0, limit) : await readMovers(ctx.redis, region, direction, limit);
  } catch (error) {
    ctx.log.warn({ err: error }, 'movers unavailable');
    throw moversUnavailable();
  }
  const quotes = await ctx.quotes.loadMany(symbols.filter((s) => ctx.catalogue.get(s)));
  return quotes.filter((q): q is Quote => {
    if (q instanceof Error) throw q;
    return q !== null;
  });
}

export const moversUnavailable = () => new AppError(ErrorCode.SERVICE_UNAVAILABLE, 'Movers need live prices, which cannot be read right now; try again shortly.');
