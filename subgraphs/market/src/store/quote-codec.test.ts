import { describe, expect, it } from 'vitest';
import type { Instrument } from '@analytica/instruments';
import { decodeQuote, encodeQuote, quoteFromHash, quoteMessage, referenceQuote, toQuote, type StoredQuote } from './quote-codec.js';

const apple: Instrument = { symbol: 'AAPL', name: 'Apple Inc.', exchange: 'XNAS', region: 'US', currency: 'USD', sector: 'Information Technology', referencePrice: 200 };

describe('the quote codec', () => {
  it('publishes a quote as the Quote entity: typename, key and every field under its GraphQL name', () => {
    const ticked = { seq: '7', time: '2026-11-02T15:00:00.000Z' };
    const quote = quoteFromHash(apple, { ...referenceQuote(apple, new Date('2026-11-02T15:00:00.000Z')), ...ticked, last: '201', marketState: 'OPEN' })!;
    expect(JSON.parse(quoteMessage(quote))).toEqual({
      __typename: 'Quote',
      symbol: 'AAPL',
      currency: 'USD',
      last: 201,
      bid: 199.96,
      ask: 200.04,
      open: 200,
      high: 200,
      low: 200,
      previousClose: 200,
      change: 1,
      changePercent: 0.5,
      volume: 0,
      time: '2026-11-02T15:00:00.000Z',
      marketState: 'OPEN',
      stale: false,
    });
  });

  it('gives the reference seed no time, since no trade happened, and the venue state by its hours', () => {
    const monday = referenceQuote(apple, new Date('2026-11-02T15:00:00.000Z'));
    expect(monday).toMatchObject({ last: '200', marketState: 'OPEN' });
    expect(quoteFromHash(apple, monday)).toMatchObject({ time: null, marketState: 'OPEN' });
    expect(JSON.parse(quoteMessage(quoteFromHash(apple, monday)!)).time).toBeNull();
    expect(referenceQuote(apple, new Date('2026-12-05T15:00:00.000Z')).marketState).toBe('CLOSED'); // Saturday
    // A seed written before this rule carried the seeding time: without a tick's seq it is still no trade.
    expect(quoteFromHash(apple, { ...monday, time: '2026-11-02T15:00:00.000Z' })!.time).toBeNull();
    expect(decodeQuote(apple, { last: '200', previousClose: '200', time: '2026-11-02T08:00:00.000Z' }).time).toBeNull();
  });

  it('computes change and changePercent from previousClose', () => {
    const quote = quoteFromHash(apple, { ...referenceQuote(apple, new Date(0)), last: '205.5', previousClose: '200' });
    expect(quote).toMatchObject({ last: 205.5, change: 5.5, changePercent: 2.75, currency: 'USD', marketState: 'CLOSED' });
    expect(quoteFromHash(apple, {})).toBeNull();
  });

  it('decodes a missing quote as the reference seed, the state the first tick starts from', () => {
    expect(decodeQuote(apple, {})).toEqual({
      seq: null,
      sessionDate: null,
      last: 200,
      bid: 199.96,
      ask: 200.04,
      open: 200,
      high: 200,
      low: 200,
      previousClose: 200,
      volume: 0,
      time: null,
      marketState: 'CLOSED',
    });
  });

  it('reads back what it writes, and the subgraph reads the quote the worker wrote', () => {
    const stored: StoredQuote = {
      seq: 7,
      sessionDate: '2026-11-02',
      last: 201.25,
      bid: 201.2,
      ask: 201.3,
      open: 201,
      high: 201.5,
      low: 200.5,
      previousClose: 200,
      volume: 300,
      time: '2026-11-02T15:00:00.007Z',
      marketState: 'OPEN',
    };
    const hash = encodeQuote(stored);
    expect(hash).toMatchObject({ change: '1.25', changePercent: '0.625', seq: '7', sessionDate: '2026-11-02' });
    expect(decodeQuote(apple, hash)).toEqual(stored);
    expect(quoteFromHash(apple, hash)).toEqual(toQuote(apple, stored));
    expect(toQuote(apple, stored)).toMatchObject({ symbol: 'AAPL', currency: 'USD', change: 1.25, changePercent: 0.625, time: new Date(stored.time!), stale: false });
    // Before the first trade (a status message only) there is no time, and the hash says so.
    const untraded = { ...stored, time: null };
    expect(encodeQuote(untraded).time).toBe('');
    expect(decodeQuote(apple, encodeQuote(untraded))).toEqual(untraded);
  });
});
