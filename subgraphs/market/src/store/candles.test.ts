import { describe, expect, it } from 'vitest';
import { bucketStart, candleKey } from './candles.js';

describe('candle buckets', () => {
  it('aligns intraday buckets on UTC minutes and hours', () => {
    const t = Date.parse('2026-11-02T14:37:42.123Z');
    expect(new Date(bucketStart('1m', t, '2026-11-02')).toISOString()).toBe('2026-11-02T14:37:00.000Z');
    expect(new Date(bucketStart('5m', t, '2026-11-02')).toISOString()).toBe('2026-11-02T14:35:00.000Z');
    expect(new Date(bucketStart('1h', t, '2026-11-02')).toISOString()).toBe('2026-11-02T14:00:00.000Z');
  });

  it("dates a daily candle by the venue's trading date, even when the session crosses midnight UTC", () => {
    // Sydney's session of 3 November starts at 23:00 UTC on 2 November.
    const sydneyOpen = Date.parse('2026-11-02T23:05:00.000Z');
    expect(new Date(bucketStart('1d', sydneyOpen, '2026-11-03')).toISOString()).toBe('2026-11-03T00:00:00.000Z');
  });

  it('keys a chart by region, symbol and interval', () => {
    expect(candleKey('EU', 'SAP.DE', '5m')).toBe('EU#SAP.DE#5m');
  });
});
