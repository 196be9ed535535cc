import { venueStatus, type Instrument, type MarketState } from '@analytica/instruments';

// The one quote codec: what a quote hash (`quote:{REGION:SYMBOL}`, redis-keys.ts) holds and how it
// reads. The ingest worker encodes it with every tick and decodes it to resume from it; the market
// subgraph seeds it and decodes it for every quote it serves.

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
 * What a quote hash holds: the Quote fields of the instrument's session, plus the sequence of the
 * last tick applied (which makes a redelivered tick harmless) and the venue's trading date the
 * session fields (open, high, low, volume) belong to. change and changePercent are stored too,
 * for the movers ranking, but always reckoned from last and previousClose.
 */
export interface StoredQuote {
  /** Null until a tick has been applied (the hash may hold the subgraph's reference seed). */
  seq: number | null;
  sessionDate: string | null;
  last: number;
  bid: number;
  ask: number;
  open: number;
  high: number;
  low: number;
  previousClose: number;
  volume: number;
  /** Exchange time of the last trade; null until the first (the reference seed has none). */
  time: string | null;
  marketState: MarketState;
}

// Prices are market data in the instrument's currency; four decimals keep float noise out of them.
export const price = (value: number) => Math.round(value * 10_000) / 10_000;

/** change and changePercent as every reader shows them (the worker writes them with this too). */
export function changeOf(last: number, previousClose: number): { change: number; changePercent: number } {
  const change = price(last - previousClose);
  return { change, changePercent: previousClose > 0 ? Math.round((change / previousClose) * 1_000_000) / 10_000 : 0 };
}

/**
 * A quote at the reference price, so a fresh system answers before the feed runs: no trade time
 * (there was no trade), and the venue's state by its hours until the feed reports its own. The
 * market subgraph writes it into a missing quote hash field by field (HSETNX).
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

/** A quote hash as read; an empty hash (no quote yet) starts from the reference quote, as the subgraph seeds it. */
export function decodeQuote(instrument: Instrument, hash: Record<string, string>): StoredQuote {
  const source = hash.last === undefined ? referenceQuote(instrument, new Date(0)) : hash;
  const num = (field: string) => {
    const value = Number(source[field]);
    return Number.isFinite(value) ? value : 0;
  };
  const seq = source.seq === undefined || source.seq === '' ? null : Number(source.seq);
  return {
    seq: Number.isSafeInteger(seq) ? seq : null,
    sessionDate: source.sessionDate || null,
    last: num('last'),
    bid: num('bid'),
    ask: num('ask'),
    open: num('open'),
    high: num('high'),
    low: num('low'),
    previousClose: num('previousClose'),
    volume: Math.trunc(num('volume')),
    // Only the ingest worker writes `seq`, and it writes `time` with each trade; a hash without a seq
    // is the reference seed (whose older versions wrote the seeding time here, which no venue reported).
    time: seq === null ? null : source.time || null,
    marketState: source.marketState === 'OPEN' ? 'OPEN' : 'CLOSED',
  };
}

/** The hash fields of a quote (every one: a write replaces the quote), with change and changePercent precomputed. */
export function encodeQuote(stored: StoredQuote): Record<string, string> {
  const { change, changePercent } = changeOf(stored.last, stored.previousClose);
  return {
    last: String(stored.last),
    bid: String(stored.bid),
    ask: String(stored.ask),
    open: String(stored.open),
    high: String(stored.high),
    low: String(stored.low),
    previousClose: String(stored.previousClose),
    change: String(change),
    changePercent: String(changePercent),
    volume: String(stored.volume),
    time: stored.time ?? '',
    marketState: stored.marketState,
    seq: stored.seq === null ? '' : String(stored.seq),
    sessionDate: stored.sessionDate ?? '',
  };
}

/** The Quote a stored quote shows (live, so not stale). */
export function toQuote(instrument: Instrument, stored: StoredQuote): Quote {
  return {
    symbol: instrument.symbol,
    currency: instrument.currency,
    last: stored.last,
    bid: stored.bid,
    ask: stored.ask,
    open: stored.open,
    high: stored.high,
    low: stored.low,
    previousClose: stored.previousClose,
    ...changeOf(stored.last, stored.previousClose),
    volume: stored.volume,
    time: stored.time === null ? null : new Date(stored.time),
    marketState: stored.marketState,
    stale: false,
  };
}

/** The Quote a hash read from Redis holds; null when there is no quote (an empty hash). */
export function quoteFromHash(instrument: Instrument, hash: Record<string, string>): Quote | null {
  return hash.last === undefined ? null : toQuote(instrument, decodeQuote(instrument, hash));
}

/**
 * The pub/sub message for a quote: the entity's typename and key plus every Quote field under its
 * GraphQL name and in its GraphQL serialisation (time as ISO 8601), so that it can be handed to a
 * client as the subscription's primary result.
 */
export function quoteMessage(quote: Quote): string {
  return JSON.stringify({ __typename: 'Quote', ...quote, time: quote.time?.toISOString() ?? null });
}
