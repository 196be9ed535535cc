import { describe, expect, it } from 'vitest';
import { createRandom, nextPrice, quoteAround, REGIMES, roundToTick, tradeSize } from './prices.js';

describe('price paths', () => {
  it('are reproducible from the seed', () => {
    const path = (seed: number) => {
      const random = createRandom(seed);
      let p = 100;
      return Array.from({ length: 5 }, () => (p = nextPrice(p, 60, 1, 1, random)));
    };
    expect(path(7)).toEqual(path(7));
    expect(path(7)).not.toEqual(path(8));
  });

  it('move with the volatility of their regime, over a trading day of one-second steps', () => {
    for (const regime of [0, 2]) {
      const random = createRandom(regime + 1);
      const returns: number[] = [];
      for (let day = 0; day < 60; day++) {
        let p = 100;
        for (let s = 0; s < 6.5 * 3600; s += 60) p = nextPrice(p, 60, regime, 1, random);
        returns.push(Math.log(p / 100));
      }
      const sd = Math.sqrt(returns.reduce((sum, r) => sum + r * r, 0) / returns.length);
      const daily = REGIMES[regime]!.volatility / Math.sqrt(252);
      // Jumps add a little; 60 days of sampling leave about 20 % of error either way.
      expect(sd).toBeGreaterThan(daily * 0.7);
      expect(sd).toBeLessThan(daily * 1.6);
    }
  });

  it('quote a bid below and an ask above the last price, on the venue tick size', () => {
    const random = createRandom(3);
    for (let n = 0; n < 100; n++) {
      const q = quoteAround(2851.4, 'JPY', 1, random);
      expect(q.last).toBe(2851);
      expect(q.bid).toBeLessThan(q.last);
      expect(q.ask).toBeGreaterThan(q.last);
      expect(Number.isInteger(q.bid) && Number.isInteger(q.ask)).toBe(true);
    }
    expect(roundToTick(7.12345, 0.001)).toBe(7.123);
  });

  it('trade in positive whole numbers of shares', () => {
    const random = createRandom(4);
    for (let n = 0; n < 1000; n++) {
      const size = tradeSize(random);
      expect(Number.isInteger(size) && size > 0).toBe(true);
    }
  });
});
