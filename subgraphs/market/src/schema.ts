import DataLoader from 'dataloader';
import { requireUser } from '@analytica/auth';
import type { Logger } from '@analytica/logger';
import type { Redis } from '@analytica/redis';
import { buildFederatedSchema, userReference, type SubgraphContext } from '@analytica/subgraph';
import type { AlertStore } from './alerts.js';
import { staleQuote, type CandleStore } from './candles.js';
import { requireInstrument, type Catalogue, type Instrument } from './instruments.js';
import { readQuotes, type Quote } from './quotes.js';
import { moversReference, MoversResolver, priceAlertTriggerReference, PriceAlertTriggerSubscription } from './schema-live.js';
import { InstrumentResolver, QuoteResolver, QuoteSubscription } from './schema-quotes.js';
import { PriceAlertResolver, priceAlertReference, User, UserMarketResolver } from './schema-user.js';
import type { WatchlistStore } from './watchlists.js';

export { MAX_QUOTES_PER_REQUEST } from './schema-quotes.js';

export interface MarketContext extends SubgraphContext {
  catalogue: Catalogue;
  watchlists: WatchlistStore;
  candles: CandleStore;
  alerts: AlertStore;
  redis: Redis;
  /** Per request: every quote the request touches is read in one Redis round trip. */
  quotes: DataLoader<string, Quote | null>;
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

export function buildMarketSchema() {
  return buildFederatedSchema({
    resolvers: [InstrumentResolver, QuoteResolver, QuoteSubscription, UserMarketResolver, PriceAlertResolver, MoversResolver, PriceAlertTriggerSubscription],
    orphanedTypes: [User],
    referenceResolvers: {
      User: userReference(),
      // Market data is not private, but like everything else it is for signed-in callers only.
      Instrument: {
        __resolveReference(reference: { symbol: string }, ctx: MarketContext) {
          requireUser(ctx);
          // The same refusal as the instrument query's: a subscription to an unknown symbol is told so in the same words.
          return requireInstrument(ctx.catalogue, reference.symbol, 'symbol');
        },
      },
      Quote: {
        __resolveReference(reference: { symbol: string }, ctx: MarketContext) {
          requireUser(ctx);
          return ctx.quotes.load(requireInstrument(ctx.catalogue, reference.symbol, 'symbol').symbol);
        },
      },
      PriceAlert: { __resolveReference: priceAlertReference },
      Movers: { __resolveReference: moversReference },
      PriceAlertTrigger: { __resolveReference: priceAlertTriggerReference },
    },
  });
}
