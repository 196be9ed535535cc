import { describe, expect, it } from 'vitest';
import { planReorder, type WatchlistEntry } from './watchlists.js';

const entries: WatchlistEntry[] = [
  { symbol: 'AAPL', rank: 1, addedAt: '2026-11-01T00:00:00.000Z' },
  { symbol: 'SAP.DE', rank: 2, addedAt: '2026-11-02T00:00:00.000Z' },
  { symbol: '7203.T', rank: 3, addedAt: '2026-11-03T00:00:00.000Z' },
];

function fieldOf(run: () => unknown) {
  try {
    run();
  } catch (error) {
    return (error as { extensions: Record<string, unknown> }).extensions;
  }
  throw new Error('expected a refusal');
}

describe('planReorder', () => {
  it('rewrites only the ranks that change', () => {
    expect(planReorder(entries, ['aapl', '7203.T', 'SAP.DE'])).toEqual([
      { symbol: '7203.T', rank: 2 },
      { symbol: 'SAP.DE', rank: 3 },
    ]);
    expect(planReorder(entries, ['AAPL', 'SAP.DE', '7203.T'])).toEqual([]);
  });

  it('refuses an order that leaves out, repeats or adds a symbol, naming symbols', () => {
    expect(fieldOf(() => planReorder(entries, ['AAPL', 'SAP.DE']))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'symbols' });
    expect(fieldOf(() => planReorder(entries, ['AAPL', 'AAPL', 'SAP.DE', '7203.T']))).toMatchObject({ field: 'symbols' });
    expect(fieldOf(() => planReorder(entries, ['AAPL', 'SAP.DE', '7203.T', 'MSFT']))).toMatchObject({ field: 'symbols' });
  });
});
