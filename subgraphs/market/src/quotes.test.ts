import { afterEach, describe, expect, it } from 'vitest';
import { createRedis } from '@analytica/redis';
import type { Instrument } from './instruments.js';
import { moversKey, quoteChannel, quoteFromHash, quoteKey, quoteMessage, readQuotes, referenceQuote, seedMissingQuotes } from './quotes.js';

const apple: Instrument = { symbol: 'AAPL', name: 'Apple Inc.', exchange: 'XNAS', region: 'US', currency: 'USD', sector: 'Information Technology', referencePrice: 200 };
const toyota: Instrument = { symbol: '7203.T', name: 'Toyota', exchange: 'XTKS', region: 'APAC', currency: 'JPY', sector: 'Consumer Discretionary', referencePrice: 2850 };

describe('quotes', () => {
  it('keys a quote by region and symbol inside one hash tag', () => {
    expect(quoteKey('APAC', '7203.T')).toBe('quote:{APAC:7203.T}');
  });

  it('names the pub/sub channel after the entity and its key, as the gateway listens, and the movers set after the region', () => {
    expect(quoteChannel('SAP.DE')).toBe('Quote.SAP.DE');
    expect(moversKey('EU')).toBe('movers:{EU}');
  });

  it('publishes a quote as the Quote entity: typename, key and every field under its GraphQL name', () => {
    const ticked = { seq: '7', time: '2026-11-02T15:00:00.000Z' };
    const quote = quoteFromHash(apple, { ...referenceQuote(apple, new Date('2026-11-02T15:00:00.000Z')), ...ticked, last: '201', marketState: 'OPEN' })!;
    expect(JSON.parse(quoteMessage(quote))).toEqual({
      __typename: 'Quote', symbol: 'AAPL', currency: 'USD', last: 201, bid: 199.96, ask: 200.04, open: 200, high: 200, low: 200,
      previousClose: 200, change: 1, changePercent: 0.5, volume: 0, time: '2026-11-02T15:00:00.000Z', marketState: 'OPEN', stale: false,
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
  });

  it('computes change and changePercent from previousClose', () => {
    const quote = quoteFromHash(apple, { ...referenceQuote(apple, new Date(0)), last: '205.5', previousClose: '200' });
    expect(quote).toMatchObject({ last: 205.5, change: 5.5, changePercent: 2.75, currency: 'USD', marketState: 'CLOSED' });
    expect(quoteFromHash(apple, {})).toBeNull();
  });

  describe('on the in-memory Redis of the embedded mode', () => {
    const redis = createRedis('memory://', { keyPrefix: `quotes-unit-${Date.now()}:` });
    afterEach(async () => {
      await redis.flushall();
    });

    it('seeds only instruments without a quote and keeps a quote the feed already wrote', async () => {
      await redis.hset(quoteKey('US', 'AAPL'), { ...referenceQuote(apple, new Date()), last: '210', marketState: 'OPEN' });
      const saturday = new Date('2026-12-05T10:00:00.000Z');
      expect(await seedMissingQuotes(redis, [apple, toyota], saturday)).toBe(1);
      const [a, t] = await readQuotes(redis, [apple, toyota]);
      expect(a).toMatchObject({ last: 210, marketState: 'OPEN' });
      expect(t).toMatchObject({ symbol: '7203.T', last: 2850, previousClose: 2850, volume: 0, marketState: 'CLOSED', currency: 'JPY', time: null });
      expect(await seedMissingQuotes(redis, [apple, toyota])).toBe(0);
    });

    it('reads quotes in the order asked, null where none exists', async () => {
      await seedMissingQuotes(redis, [toyota]);
      const quotes = await readQuotes(redis, [apple, toyota, toyota]);
      expect(quotes.map((q) => q?.symbol ?? null)).toEqual([null, '7203.T', '7203.T']);
    });
  });
});
