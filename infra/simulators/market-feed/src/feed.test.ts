import { describe, expect, it } from 'vitest';
import { contracts } from '@analytica/events';
import { readReferenceFile } from '@analytica/market-subgraph/instruments';
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
    // 15:00 UTC on a Monday: New York and Europe trade, Asia and the Pacific do not.
    const { ticks, feed } = run({}, Date.parse('2026-11-02T15:00:00Z'), 10);
    const trades = ticks.filter((t) => t.size > 0);
    expect(new Set(trades.map((t) => t.region))).toEqual(new Set(['US', 'EU']));
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

  it('takes up the prices of an earlier run', () => {
    const { ticks } = run({ alwaysOpen: true, saved: { prices: { AAPL: 321 }, regimes: {} } }, Date.parse('2026-11-02T15:00:00Z'), 5);
    const apple = ticks.find((t) => t.symbol === 'AAPL' && t.size > 0)!;
    expect(Math.abs(apple.last - 321)).toBeLessThan(3);
  });
});
