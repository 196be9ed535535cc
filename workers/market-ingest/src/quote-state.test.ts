import { describe, expect, it } from 'vitest';
import type { Instrument } from '@analytica/instruments';
import { decodeQuote, encodeQuote } from '@analytica/market-subgraph/store';
import { applyTick } from './quote-state.js';
import type { Tick } from './ticks.js';

const apple: Instrument = { symbol: 'AAPL', name: 'Apple Inc.', exchange: 'XNAS', region: 'US', currency: 'USD', sector: 'Information Technology', referencePrice: 200 };
const trade = (seq: number, last: number, size: number, sessionDate = '2026-11-02', marketState: 'OPEN' | 'CLOSED' = 'OPEN'): Tick => ({
  symbol: 'AAPL',
  region: 'US',
  bid: last - 0.01,
  ask: last + 0.01,
  last,
  size,
  seq,
  exchangeTime: new Date(Date.parse(`${sessionDate}T15:00:00Z`) + seq).toISOString(),
  timeMs: Date.parse(`${sessionDate}T15:00:00Z`) + seq,
  marketState,
  sessionDate,
});

describe('the quote state', () => {
  it('starts the first session from the reference quote the subgraph seeds, with it as previous close', () => {
    const state = decodeQuote(apple, {});
    expect(state).toMatchObject({ seq: null, sessionDate: null, last: 200, previousClose: 200 });
    applyTick(state, trade(1, 201, 100));
    expect(state).toMatchObject({ seq: 1, sessionDate: '2026-11-02', open: 201, high: 201, low: 201, last: 201, previousClose: 200, volume: 100, marketState: 'OPEN' });
    expect(encodeQuote(state)).toMatchObject({ change: '1', changePercent: '0.5', seq: '1', sessionDate: '2026-11-02' });
  });

  it('tracks high, low and volume within a session and ignores a tick it already applied', () => {
    const state = decodeQuote(apple, {});
    for (const t of [trade(1, 201, 100), trade(2, 199, 50), trade(3, 203, 10)]) expect(applyTick(state, t)).toBe(true);
    expect(applyTick(state, trade(2, 199, 50))).toBe(false);
    expect(applyTick(state, trade(3, 203, 10))).toBe(false);
    expect(state).toMatchObject({ open: 201, high: 203, low: 199, last: 203, volume: 160, seq: 3 });
  });

  it('opens a new session on a later trading date, with the last price of the one before as previous close', () => {
    const state = decodeQuote(apple, {});
    applyTick(state, trade(1, 201, 100));
    applyTick(state, trade(2, 205, 100));
    applyTick(state, trade(3, 204, 5, '2026-11-03'));
    expect(state).toMatchObject({ sessionDate: '2026-11-03', previousClose: 205, open: 204, high: 204, low: 204, volume: 5 });
  });

  it('lets a status message close the market without touching the session figures or the trade time', () => {
    const state = decodeQuote(apple, {});
    applyTick(state, trade(1, 201, 100));
    const traded = state.time;
    applyTick(state, trade(2, 201, 0, '2026-11-02', 'CLOSED'));
    expect(state).toMatchObject({ marketState: 'CLOSED', last: 201, volume: 100, seq: 2, time: traded });
    // Nor does a status message dated the next day start a session: only a trade does.
    applyTick(state, trade(3, 201, 0, '2026-11-03', 'CLOSED'));
    expect(state).toMatchObject({ sessionDate: '2026-11-02', volume: 100 });
  });

  it('has no time until the first trade: the seed and a status message are no trade', () => {
    const state = decodeQuote(apple, {});
    expect(state.time).toBeNull();
    applyTick(state, trade(1, 200, 0, '2026-11-02', 'OPEN'));
    expect(state).toMatchObject({ time: null, marketState: 'OPEN', seq: 1 });
    expect(encodeQuote(state).time).toBe('');
    expect(decodeQuote(apple, encodeQuote(state))).toEqual(state);
    applyTick(state, trade(2, 201, 10));
    expect(state.time).toBe(trade(2, 201, 10).exchangeTime);
    // A seed from before this rule carried the seeding time; without a tick's seq it is still no trade.
    expect(decodeQuote(apple, { last: '200', previousClose: '200', time: '2026-11-02T08:00:00.000Z' }).time).toBeNull();
  });

  it('reads back what it writes', () => {
    const state = decodeQuote(apple, {});
    applyTick(state, trade(7, 201.25, 300));
    expect(decodeQuote(apple, encodeQuote(state))).toEqual(state);
  });
});
