import type { StoredQuote } from '@analytica/market-subgraph/store';
import type { Tick } from './ticks.js';

// A symbol's quote as the worker keeps it is the quote hash decoded (StoredQuote: the Quote fields
// plus the sequence of the last tick applied and the venue's trading date the session fields
// belong to); the market subgraph's store codec reads and writes it, and this folds ticks into it.

/**
 * Folds one tick into the state (in place). A tick at or below the state's sequence is already
 * in it and changes nothing: that is what makes a redelivered tick harmless. A trade on a later
 * trading date starts a new session, whose previous close is the last price of the one before.
 * A status message (size 0) moves bid, ask and the market state only: `time` is the last trade's.
 */
export function applyTick(state: StoredQuote, tick: Tick): boolean {
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
