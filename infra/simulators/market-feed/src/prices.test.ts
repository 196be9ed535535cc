import { describe, expect, it } from 'vitest';
import { createRandom, nextPrice, priceProfile, quoteAround, REGIMES, roundToTick, tradeSize } from './prices.js';

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

  it("spread a pair's volatility over the whole year: crypto swings about three times as much as a share, a currency a third", () => {
    const dailyDeviation = (sector: string, seed: number) => {
      const profile = priceProfile({ sector, currency: 'USD' });
      const random = createRandom(seed);
      const returns: number[] = [];
      for (let day = 0; day < 60; day++) {
        let p = 100;
        for (let s = 0; s < 24 * 3600; s += 60) p = nextPrice(p, 60, 1, profile.volatility, random, 1, profile.tradingYearSeconds, profile.jumpScale);
        returns.push(Math.log(p / 100));
      }
      return Math.sqrt(returns.reduce((sum, r) => sum + r * r, 0) / returns.length);
    };
    const normalDay = REGIMES[1].volatility / Math.sqrt(365);
    const crypto = dailyDeviation('Cryptocurrency', 5);
    expect(crypto).toBeGreaterThan(3 * normalDay * 0.7);
    expect(crypto).toBeLessThan(3 * normalDay * 1.6);
    const currency = dailyDeviation('Currency', 6);
    expect(currency).toBeGreaterThan(0.4 * normalDay * 0.7);
    expect(currency).toBeLessThan(0.4 * normalDay * 1.6);
  });

  it('quote currency pairs in fractional pips and crypto in cents, and trade them in coins or currency units', () => {
    const random = createRandom(7);
    const euro = priceProfile({ sector: 'Currency', currency: 'USD' });
    const q = quoteAround(1.1623456, 'USD', 1, random, euro.tick(1.1623456));
    expect(q.last).toBe(1.16235);
    expect(q.bid).toBeLessThan(q.last);
    expect(q.ask).toBeGreaterThan(q.last);
    expect(priceProfile({ sector: 'Currency', currency: 'JPY' }).tick(155.2)).toBe(0.001);
    expect(priceProfile({ sector: 'Cryptocurrency', currency: 'USD' }).tick(92_500)).toBe(0.01);
    for (let n = 0; n < 200; n++) {
      const coins = priceProfile({ sector: 'Cryptocurrency', currency: 'USD' }).size(random);
      const units = euro.size(random);
      expect(Number.isInteger(coins) && coins > 0).toBe(true);
      expect(units % 1000 === 0 && units > 0).toBe(true);
    }
  });

  it('trade in positive whole numbers of shares', () => {
    const random = createRandom(4);
    for (let n = 0; n < 1000; n++) {
      const size = tradeSize(random);
      expect(Number.isInteger(size) && size > 0).toBe(true);
    }
  });
});
