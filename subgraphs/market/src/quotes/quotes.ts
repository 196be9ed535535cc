import DataLoader from 'dataloader';
import type { Instrument } from '@analytica/instruments';
import type { Logger } from '@analytica/logger';
import type { Redis } from '@analytica/redis';
import { staleQuote, type CandleStore } from '../candles/candles.js';
import type { Catalogue } from '../instruments/instruments.js';
import { quoteFromHash, referenceQuote, type Quote } from '../store/quote-codec.js';
import { quoteKey } from '../store/redis-keys.js';

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

export interface QuoteSources {
  redis: Redis;
  catalogue: Catalogue;
  candles: CandleStore;
  /** How long to wait for a Redis that seems connected before answering from stored candles. */
  timeoutMs: number;
  log: Logger;
}

/**
 * Live quotes from Redis in one pipeline. When Redis is away (the client is not connected, the
 * read fails, or a connection that seems up does not answer in time), every quote of the batch is
 * rebuilt from the last daily candles in DynamoDB and marked stale. A busy service is not a reason:
 * falling back to DynamoDB under load would only add load, so the timeout is generous.
 */
export function quoteLoader(sources: QuoteSources) {
  return new DataLoader<string, Quote | null>(async (symbols) => {
    const known = symbols.map((s) => sources.catalogue.get(s)).filter((i): i is Instrument => i !== undefined);
    let quotes: (Quote | null)[];
    try {
      // The in-process stand-in has no status; a real client that is reconnecting is not waited for.
      const status = (sources.redis as { status?: string }).status;
      if (status !== undefined && status !== 'ready') throw new Error(`Redis is ${status}`);
      quotes = await withTimeout(readQuotes(sources.redis, known), sources.timeoutMs);
    } catch (error) {
      sources.log.warn({ err: error, symbols: known.length }, 'live quotes unavailable; answering from stored candles');
      quotes = await Promise.all(known.map((i) => staleQuote(sources.candles, i)));
    }
    const bySymbol = new Map(quotes.map((q, n) => [known[n]!.symbol, q]));
    return symbols.map((s) => bySymbol.get(s) ?? null);
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  // The loser of the race must not surface later as an unhandled rejection.
  promise.catch(() => {});
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
