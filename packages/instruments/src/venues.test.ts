import { describe, expect, it } from 'vitest';
import { ALWAYS_OPEN_VENUE, neverCloses, nextOpen, TRADING_HOURS, venueStatus } from './venues.js';

const at = (iso: string) => new Date(iso);
const opensAt = (mic: string, iso: string) => nextOpen(mic, at(iso))?.toISOString() ?? null;

describe('the venue that never closes (crypto and currency pairs)', () => {
  it('trades on a Saturday and at any hour, and never has a next open', () => {
    for (const iso of ['2026-12-05T10:00:00Z', '2026-12-06T03:17:00Z', '2026-12-07T23:59:59Z']) {
      expect(venueStatus(ALWAYS_OPEN_VENUE, at(iso)).state).toBe('OPEN');
      expect(nextOpen(ALWAYS_OPEN_VENUE, at(iso))).toBeNull();
    }
    expect(neverCloses(ALWAYS_OPEN_VENUE)).toBe(true);
    expect(neverCloses('XNYS')).toBe(false);
  });

  it('dates its session by the UTC day, so daily candles and previousClose roll over at 00:00 UTC', () => {
    expect(venueStatus(ALWAYS_OPEN_VENUE, at('2026-12-05T23:59:59.999Z')).sessionDate).toBe('2026-12-05');
    expect(venueStatus(ALWAYS_OPEN_VENUE, at('2026-12-06T00:00:00.000Z')).sessionDate).toBe('2026-12-06');
  });
});

describe('when a closed venue opens next', () => {
  it('is null while the venue is open', () => {
    expect(nextOpen('XNYS', at('2026-12-07T15:00:00Z'))).toBeNull();
  });

  it('skips the weekend: New York on a Saturday opens on Monday at 09:30 local time', () => {
    expect(opensAt('XNYS', '2026-12-05T15:00:00Z')).toBe('2026-12-07T14:30:00.000Z'); // winter, UTC-5
    expect(opensAt('XNYS', '2026-07-03T21:00:00Z')).toBe('2026-07-06T13:30:00.000Z'); // summer, UTC-4
  });

  it('is later the same day before the open and after a lunch break', () => {
    expect(opensAt('XTKS', '2026-11-01T23:00:00Z')).toBe('2026-11-02T00:00:00.000Z'); // 08:00 JST on Monday
    expect(opensAt('XTKS', '2026-11-02T02:45:00Z')).toBe('2026-11-02T03:30:00.000Z'); // lunch: 12:30 JST
    expect(opensAt('XNSE', '2026-12-05T10:00:00Z')).toBe('2026-12-07T03:45:00.000Z'); // 09:15 IST, UTC+5:30
  });

  it("follows the venue's own calendar day: Sydney's Monday opens on Sunday evening UTC", () => {
    expect(opensAt('XASX', '2026-12-06T12:00:00Z')).toBe('2026-12-06T23:00:00.000Z');
  });

  it('takes the offset of the day it opens, across a change of clocks', () => {
    // Asked on Friday in British summer time; London opens on Monday after the clocks went back.
    expect(opensAt('XLON', '2026-10-23T16:00:00Z')).toBe('2026-10-26T08:00:00.000Z');
  });

  it('reckons a wall-clock time near a change of clocks with the offset in force then', () => {
    // No real session starts near a change (they happen at night); a venue made up for it does.
    TRADING_HOURS.XTST = { timeZone: 'America/New_York', sessions: [['03:30', '04:00']], days: 'every day' };
    try {
      // 01:00 EST on the night the clocks go forward at 02:00: 03:30 that morning is already EDT (UTC-4).
      expect(opensAt('XTST', '2026-03-08T06:00:00Z')).toBe('2026-03-08T07:30:00.000Z');
    } finally {
      delete TRADING_HOURS.XTST;
    }
  });

  it('is, for every venue at any closed moment, the first minute it trades again', () => {
    const start = Date.parse('2026-10-20T00:00:00Z');
    for (const mic of Object.keys(TRADING_HOURS)) {
      for (let ms = start; ms < start + 14 * 86_400_000; ms += 613 * 60_000) {
        const next = nextOpen(mic, new Date(ms));
        if (venueStatus(mic, new Date(ms)).state === 'OPEN') {
          expect(next).toBeNull();
          continue;
        }
        expect(next, `${mic} at ${new Date(ms).toISOString()}`).not.toBeNull();
        expect(venueStatus(mic, next!).state).toBe('OPEN');
        expect(venueStatus(mic, new Date(next!.getTime() - 60_000)).state).toBe('CLOSED');
        // Nothing opens in between: sampled every two hours, which no session (2.5 hours at least) slips through.
        for (let t = ms; t < next!.getTime() - 60_000; t += 120 * 60_000) expect(venueStatus(mic, new Date(t)).state).toBe('CLOSED');
      }
    }
  }, 20_000);

  it('refuses a venue it does not know', () => {
    expect(() => nextOpen('XABC', new Date())).toThrow(/XABC/);
  });
});
