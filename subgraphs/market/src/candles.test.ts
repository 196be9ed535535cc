import { describe, expect, it } from 'vitest';
import { bucketStart, candleKey, checkCandleRequest } from './candles.js';

const fieldOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return (error as { extensions: Record<string, unknown> }).extensions;
  }
  throw new Error('expected a refusal');
};

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

describe('checkCandleRequest', () => {
  const from = new Date('2026-11-02T00:00:00Z');
  it('accepts a known interval over a range it allows', () => {
    expect(checkCandleRequest('1m', from, new Date('2026-11-02T23:59:00Z'))).toBe('1m');
    expect(checkCandleRequest('1d', from, new Date('2030-11-01T00:00:00Z'))).toBe('1d');
  });

  it('refuses an unknown interval, a reversed range and one too long for the interval, naming the argument', () => {
    expect(fieldOf(() => checkCandleRequest('2m', from, new Date('2026-11-02T01:00:00Z')))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'interval' });
    expect(fieldOf(() => checkCandleRequest('1m', from, from))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
    expect(fieldOf(() => checkCandleRequest('1m', from, new Date('2026-11-01T00:00:00Z')))).toMatchObject({ field: 'to' });
    expect(fieldOf(() => checkCandleRequest('1m', from, new Date('2026-11-03T00:00:01Z')))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'from' });
    expect(fieldOf(() => checkCandleRequest('5m', from, new Date('2026-11-10T00:00:00Z')))).toMatchObject({ field: 'from' });
  });
});
