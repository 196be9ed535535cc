import { describe, expect, it } from 'vitest';
import { contracts } from '@analytica/events';
import { readReferenceFile } from '@analytica/instruments';
import { createLiveFeed } from './feed.js';
import type { TickPayload } from './ticks.js';

const { instruments } = await readReferenceFile();

function run(options: Partial<Parameters<typeof createLiveFeed>[0]>, from: number, seconds: number) {
  const ticks: TickPayload[] = [];
  const feed = createLiveFeed({ instruments, ticksPerSymbol: 1, alwaysOpen: false, seed: 1, volatilityMultiplier: 1, emit: (t) => ticks.push(t), ...options });
  for (let ms = 0; ms <= seconds * 1000; ms += 20) feed.step(from + ms);
  return { ticks, feed };
}

describe('the live feed', () => {
  it('trades only the symbols whose venue is open, about once a second each, with valid ticks', () => {
    // 15:00 UTC on a Monday: New York and Europe trade, Asia and the Pacific do not; the pairs always do.
    const { ticks, feed } = run({}, Date.parse('2026-11-02T15:00:00Z'), 10);
    const trades = ticks.filter((t) => t.size > 0);
    expect(new Set(trades.map((t) => t.region))).toEqual(new Set(['US', 'EU', 'GLOBAL']));
    expect(trades.length / 10).toBeGreaterThan(feed.openSymbols() * 0.8);
    expect(trades.length / 10).toBeLessThan(feed.openSymbols() * 1.2);
    for (const t of ticks) expect(contracts['market.ticks.v1'].safeParse(t).success).toBe(true);
  });

  it('sends one CLOSED status message for each symbol whose venue is closed, then nothing for it', () => {
    const { ticks } = run({}, Date.parse('2026-11-02T15:00:00Z'), 5);
    const apac = instruments.filter((i) => i.region === 'APAC').length;
    const closed = ticks.filter((t) => t.marketState === 'CLOSED');
    expect(closed).toHaveLength(apac);
    expect(closed.every((t) => t.size === 0 && t.region === 'APAC')).toBe(true);
  });

  it('keeps each symbol in strictly increasing sequence and exchange time', () => {
    const { ticks } = run({ ticksPerSecond: 2000, alwaysOpen: true }, Date.parse('2026-11-07T10:00:00Z'), 3);
    expect(ticks.length).toBeGreaterThan(5000);
    const last = new Map<string, TickPayload>();
    for (const t of ticks) {
      const before = last.get(t.symbol);
      if (before) {
        expect(t.seq).toBeGreaterThan(before.seq);
        expect(t.exchangeTime >= before.exchangeTime).toBe(true);
      }
      last.set(t.symbol, t);
    }
  });

  it('trades only the crypto and currency pairs at the weekend, and says every other venue is closed', () => {
    const { ticks, feed } = run({}, Date.parse('2026-12-05T10:00:00Z'), 10); // a Saturday
    const pairs = instruments.filter((i) => i.region === 'GLOBAL').map((i) => i.symbol);
    expect(feed.openSymbols()).toBe(pairs.length);
    expect(new Set(ticks.filter((t) => t.size > 0).map((t) => t.symbol))).toEqual(new Set(pairs));
    const statuses = ticks.filter((t) => t.size === 0);
    expect(statuses).toHaveLength(instruments.length);
    for (const t of statuses) expect(t.marketState).toBe(pairs.includes(t.symbol) ? 'OPEN' : 'CLOSED');
    // Their trading date is the UTC day.
    for (const t of ticks) expect(t.sessionDate).toBe('2026-12-05');
  });

  it('says OPEN for each symbol when its venue opens, before the first trade', () => {
    // New York opens at 14:30 UTC in November.
    const { ticks } = run({}, Date.parse('2026-11-02T14:29:30Z'), 60);
    const us = instruments.filter((i) => i.region === 'US').length;
    const opened = ticks.filter((t) => t.region === 'US' && t.size === 0 && t.marketState === 'OPEN');
    expect(opened).toHaveLength(us);
    for (const t of opened) expect(t.exchangeTime).toBe('2026-11-02T14:30:00.000Z');
    const firstTrade = ticks.find((t) => t.region === 'US' && t.size > 0)!;
    expect(firstTrade.exchangeTime >= '2026-11-02T14:30:00.000Z').toBe(true);
    expect(ticks.indexOf(firstTrade)).toBeGreaterThan(ticks.indexOf(opened[0]!));
  });

  it('trades steady symbols on a beat of ticksPerSymbol each while open, outside the shared rate', () => {
    const saturday = Date.parse('2026-12-05T10:00:00Z');
    const { ticks } = run({ ticksPerSecond: 2, steadySymbols: new Set(['BTC-USD', 'AAPL']) }, saturday, 20);
    const tradesOf = (symbol: string) => ticks.filter((t) => t.symbol === symbol && t.size > 0);
    const btc = tradesOf('BTC-USD');
    expect(btc.length).toBeGreaterThanOrEqual(20);
    expect(btc.length).toBeLessThanOrEqual(21);
    // Never more than a second apart.
    for (let n = 1; n < btc.length; n++) expect(Date.parse(btc[n]!.exchangeTime) - Date.parse(btc[n - 1]!.exchangeTime)).toBeLessThanOrEqual(1000);
    expect(tradesOf('AAPL')).toEqual([]); // its venue is closed
    const shared = ticks.filter((t) => t.size > 0 && t.symbol !== 'BTC-USD').length;
    expect(shared).toBeGreaterThanOrEqual(38);
    expect(shared).toBeLessThanOrEqual(42);
  });

  it('takes up the prices of an earlier run', () => {
    const saved = { prices: { AAPL: 321 }, regimes: {} };
    const { ticks } = run({ alwaysOpen: true, saved, steadySymbols: new Set(['AAPL']) }, Date.parse('2026-11-02T15:00:00Z'), 5);
    const apple = ticks.find((t) => t.symbol === 'AAPL' && t.size > 0)!;
    expect(Math.abs(apple.last - 321)).toBeLessThan(3);
  });
});
