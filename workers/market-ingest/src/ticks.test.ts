import { describe, expect, it } from 'vitest';
import type { Instrument } from '@analytica/instruments';
import { parseTick } from './ticks.js';

const instruments = new Map<string, Instrument>([
  ['AAPL', { symbol: 'AAPL', name: 'Apple Inc.', exchange: 'XNAS', region: 'US', currency: 'USD', sector: 'Information Technology', referencePrice: 200 }],
]);
const good = { symbol: 'AAPL', region: 'US', bid: 199.9, ask: 200.1, last: 200, size: 100, exchangeTime: '2026-11-02T15:00:00.000Z', seq: 42 };

describe('parseTick', () => {
  it('accepts a tick of a known instrument and fills in the optional fields', () => {
    expect(parseTick(JSON.stringify(good), instruments)).toEqual({
      ok: true,
      tick: { ...good, timeMs: Date.parse(good.exchangeTime), marketState: 'OPEN', sessionDate: '2026-11-02' },
    });
  });

  it('refuses, with the reason, what is not JSON, breaks the contract, or names an unknown or misplaced instrument', () => {
    expect(parseTick('{oops', instruments)).toEqual({ ok: false, reason: 'malformed message: not JSON' });
    const negative = parseTick(JSON.stringify({ ...good, last: -1 }), instruments);
    expect(negative.ok || negative.reason).toMatch(/^malformed message: last: /);
    const noSeq = parseTick(JSON.stringify({ ...good, seq: undefined }), instruments);
    expect(noSeq.ok || noSeq.reason).toMatch(/seq/);
    expect(parseTick(JSON.stringify({ ...good, symbol: 'NOPE' }), instruments)).toEqual({ ok: false, reason: 'unknown symbol "NOPE": not in the reference instruments' });
    expect(parseTick(JSON.stringify({ ...good, region: 'EU' }), instruments)).toEqual({ ok: false, reason: 'AAPL is listed in US, not EU' });
  });
});
