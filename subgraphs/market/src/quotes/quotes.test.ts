import { afterEach, describe, expect, it } from 'vitest';
import type { Instrument } from '@analytica/instruments';
import { createRedis } from '@analytica/redis';
import { referenceQuote } from '../store/quote-codec.js';
import { quoteKey } from '../store/redis-keys.js';
import { readQuotes, seedMissingQuotes } from './quotes.js';

const apple: Instrument = { symbol: 'AAPL', name: 'Apple Inc.', exchange: 'XNAS', region: 'US', currency: 'USD', sector: 'Information Technology', referencePrice: 200 };
const toyota: Instrument = { symbol: '7203.T', name: 'Toyota', exchange: 'XTKS', region: 'APAC', currency: 'JPY', sector: 'Consumer Discretionary', referencePrice: 2850 };

describe('quotes', () => {
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
