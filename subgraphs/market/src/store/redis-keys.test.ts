import { describe, expect, it } from 'vitest';
import { moversChannel, moversKey, publishedMoversKey, quoteChannel, quoteKey } from './redis-keys.js';

describe('the Redis keys of market data', () => {
  it('keys a quote by region and symbol inside one hash tag', () => {
    expect(quoteKey('APAC', '7203.T')).toBe('quote:{APAC:7203.T}');
  });

  it('names the pub/sub channel after the entity and its key, as the gateway listens, and the movers set after the region', () => {
    expect(quoteChannel('SAP.DE')).toBe('Quote.SAP.DE');
    expect(moversKey('EU')).toBe('movers:{EU}');
    expect(publishedMoversKey('EU')).toBe('movers-published:{EU}');
    expect(moversChannel('EU')).toBe('Movers.EU');
  });
});
