import { describe, expect, it } from 'vitest';
import { checkCandleRequest } from './candles.js';

const fieldOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return (error as { extensions: Record<string, unknown> }).extensions;
  }
  throw new Error('expected a refusal');
};

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
