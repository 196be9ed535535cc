import type { Instrument } from '@analytica/market-subgraph/instruments';
import { changeOf, referenceQuote, type MarketState, type Quote } from '@analytica/market-subgraph/quotes';
import type { Tick } from './ticks.js';

/**
 * A symbol's quote as the worker keeps it: the Quote fields plus the sequence of the last tick
 * applied and the venue's trading date the session fields (open, high, low, volume) belong to.
 */
export interface QuoteState {
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

/** The state behind a quote hash; an empty hash starts from the reference quote, as the subgraph seeds it. */
export function stateFromHash(instrument: Instrument, hash: Record<string, string>): QuoteState {
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
    // A hash no tick has touched is the seed, whose time (older seeds wrote one) is no trade's.
    time: seq === null ? null : source.time || null,
    marketState: source.marketState === 'OPEN' ? 'OPEN' : 'CLOSED',
  };
}

/**
 * Folds one tick into the state (in place). A tick at or below the state's sequence is already
 * in it and changes nothing: that is what makes a redelivered tick harmless. A trade on a later
 * trading date starts a new session, whose previous close is the last price of the one before.
 * A status message (size 0) moves bid, ask and the market state only: `time` is the last trade's.
 */
export function applyTick(state: QuoteState, tick: Tick): boolean {
  if (state.seq !== null && tick.seq <= state.seq) return false;
  state.seq = tick.seq;
  state.bid = tick.bid;
  state.ask = tick.ask;
  state.marketState = tick.marketState;
  if (tick.size === 0) return true;
  state.time = tick.exchangeTime;
  if (state.sessionDate === null || tick.sessionDate > state.sessionDate) {
    state.previousClose = state.last;
    state.sessionDate = tick.sessionDate;
    state.open = state.high = state.low = tick.last;
    state.volume = 0;
  }
  state.last = tick.last;
  state.high = Math.max(state.high, tick.last);
  state.low = Math.min(state.low, tick.last);
  state.volume += tick.size;
  return true;
}

/** The hash the market subgraph reads (same field names), with change and changePercent precomputed. */
export function stateToHash(state: QuoteState): Record<string, string> {
  const { change, changePercent } = changeOf(state.last, state.previousClose);
  return {
    last: String(state.last),
    bid: String(state.bid),
    ask: String(state.ask),
    open: String(state.open),
    high: String(state.high),
    low: String(state.low),
    previousClose: String(state.previousClose),
    change: String(change),
    changePercent: String(changePercent),
    volume: String(state.volume),
    time: state.time ?? '',
    marketState: state.marketState,
    seq: state.seq === null ? '' : String(state.seq),
    sessionDate: state.sessionDate ?? '',
  };
}

export function stateToQuote(instrument: Instrument, state: QuoteState): Quote {
  return {
    symbol: instrument.symbol,
    currency: instrument.currency,
    last: state.last,
    bid: state.bid,
    ask: state.ask,
    open: state.open,
    high: state.high,
    low: state.low,
    previousClose: state.previousClose,
    ...changeOf(state.last, state.previousClose),
    volume: state.volume,
    time: state.time === null ? null : new Date(state.time),
    marketState: state.marketState,
    stale: false,
  };
}
