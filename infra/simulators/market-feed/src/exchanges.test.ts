import { describe, expect, it } from 'vitest';
import { createVenueClock, venueStatus } from './exchanges.js';

describe('venue hours', () => {
  it('opens New York at 09:30 local time, whichever the UTC offset of the season', () => {
    // Summer time (UTC-4) and winter time (UTC-5).
    expect(venueStatus('XNYS', new Date('2026-07-01T13:29:00Z')).state).toBe('CLOSED');
    expect(venueStatus('XNYS', new Date('2026-07-01T13:30:00Z')).state).toBe('OPEN');
    expect(venueStatus('XNYS', new Date('2026-11-02T14:29:00Z')).state).toBe('CLOSED');
    expect(venueStatus('XNYS', new Date('2026-11-02T14:30:00Z'))).toEqual({ state: 'OPEN', sessionDate: '2026-11-02' });
    expect(venueStatus('XNYS', new Date('2026-11-02T21:00:00Z')).state).toBe('CLOSED');
  });

  it('closes Tokyo and Hong Kong for lunch and everything at the weekend', () => {
    expect(venueStatus('XTKS', new Date('2026-11-02T02:45:00Z')).state).toBe('CLOSED'); // 11:45 JST
    expect(venueStatus('XTKS', new Date('2026-11-02T03:45:00Z')).state).toBe('OPEN'); // 12:45 JST
    expect(venueStatus('XHKG', new Date('2026-11-02T04:30:00Z')).state).toBe('CLOSED'); // 12:30 HKT
    expect(venueStatus('XETR', new Date('2026-11-07T10:00:00Z')).state).toBe('CLOSED'); // Saturday
  });

  it("dates Sydney's session by its local day, which starts the evening before in UTC", () => {
    expect(venueStatus('XASX', new Date('2026-11-02T23:30:00Z'))).toEqual({ state: 'OPEN', sessionDate: '2026-11-03' });
  });

  it('can be told that every venue is always open', () => {
    const clock = createVenueClock(true);
    expect(clock('XETR', new Date('2026-11-07T10:00:00Z')).state).toBe('OPEN');
  });

  it('refuses a venue it does not know', () => {
    expect(() => venueStatus('XXXX', new Date())).toThrow(/XXXX/);
  });
});
