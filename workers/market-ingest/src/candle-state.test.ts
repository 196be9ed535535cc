import { describe, expect, it } from 'vitest';
import { candleSlots, createSlotWalker, emptyEntry, isDirty, mergeTrade } from './candle-state.js';
import type { Tick } from './ticks.js';

const tick = (seq: number, last: number, size: number, at = '2026-11-02T15:00:30Z'): Tick => ({
  symbol: 'SAP.DE',
  region: 'EU',
  bid: last,
  ask: last,
  last,
  size,
  seq,
  exchangeTime: at,
  timeMs: Date.parse(at),
  marketState: 'OPEN',
  sessionDate: '2026-11-02',
});

describe('candles', () => {
  it('puts a trade in one candle per interval', () => {
    expect(candleSlots(tick(1, 10, 1, '2026-11-02T15:07:30Z')).map(({ pk, bucket }) => `${pk} ${new Date(bucket).toISOString()}`)).toEqual([
      'EU#SAP.DE#1m 2026-11-02T15:07:00.000Z',
      'EU#SAP.DE#5m 2026-11-02T15:05:00.000Z',
      'EU#SAP.DE#1h 2026-11-02T15:00:00.000Z',
      'EU#SAP.DE#1d 2026-11-02T00:00:00.000Z',
    ]);
  });

  it('walks a run of trades through the same candles as looking each one up', () => {
    const looked: string[] = [];
    const walk = createSlotWalker({ region: 'EU', symbol: 'SAP.DE' }, (pk, bucket) => {
      looked.push(`${pk} ${bucket}`);
      return emptyEntry(pk, bucket);
    });
    const trades = ['15:00:01', '15:00:59', '15:01:00', '15:04:59', '15:05:00', '16:00:00'].map((t, n) => tick(n + 1, 10, 1, `2026-11-02T${t}Z`));
    for (const t of trades) expect(walk(t).map((e) => `${e.pk} ${e.bucket}`)).toEqual(candleSlots(t).map((s) => `${s.pk} ${s.bucket}`));
    // Only a bucket change costs a lookup: all four at first, then none, 1m, 1m, 1m and 5m, all but 1d.
    expect(looked).toHaveLength(4 + 0 + 1 + 1 + 2 + 3);
  });

  it('is the OHLCV of the distinct ticks however often each is delivered', () => {
    const ticks = [tick(1, 10, 5), tick(2, 12, 1), tick(3, 9, 2), tick(4, 11, 3)];
    const once = emptyEntry('pk', 0);
    for (const t of ticks) mergeTrade(once, t);
    const twice = emptyEntry('pk', 0);
    for (const t of [ticks[0]!, ticks[1]!, ticks[0]!, ticks[1]!, ticks[2]!, ticks[1]!, ticks[3]!, ticks[2]!, ticks[3]!]) mergeTrade(twice, t);
    expect(twice).toEqual(once);
    expect(once).toMatchObject({ open: 10, high: 12, low: 9, close: 11, volume: 11, trades: 4, lastSeq: 4 });
  });

  it('counts no status message and is dirty until written', () => {
    const entry = emptyEntry('pk', 0);
    expect(mergeTrade(entry, tick(1, 10, 0))).toBe(false);
    expect(isDirty(entry)).toBe(false);
    mergeTrade(entry, tick(2, 10, 1));
    expect(isDirty(entry)).toBe(true);
    entry.storedSeq = entry.lastSeq;
    expect(isDirty(entry)).toBe(false);
  });
});
