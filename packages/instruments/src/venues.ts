/** Whether a venue is trading: by its hours here, or as the market feed last reported it in a quote. */
export const MARKET_STATES = ['OPEN', 'CLOSED'] as const;
export type MarketState = (typeof MARKET_STATES)[number];

/**
 * When the venues of the reference instruments trade. The feed simulator trades by it, the
 * market subgraph answers `Instrument.marketState` and `nextOpen` from it, and the launchers
 * print it: one table, so they cannot disagree.
 */
export interface VenueHours {
  timeZone: string;
  /** Local [open, close) times of one trading date; two for a lunch break; '24:00' is the end of the day. */
  sessions: [string, string][];
  /** Which local days trade. Public holidays and auctions are left out. */
  days: 'weekdays' | 'every day';
}

/**
 * Crypto and currency pairs trade over the counter, not on an exchange: XOFF is ISO 10383's code
 * for that. They trade around the clock every day (real spot FX pauses from Friday to Sunday
 * evening in New York; the simulated market does not, so that there are live prices every day),
 * and their trading date is the UTC day: daily candles and previousClose roll over at 00:00 UTC.
 */
export const ALWAYS_OPEN_VENUE = 'XOFF';

export const TRADING_HOURS: Record<string, VenueHours> = {
  XNYS: { timeZone: 'America/New_York', sessions: [['09:30', '16:00']], days: 'weekdays' },
  XNAS: { timeZone: 'America/New_York', sessions: [['09:30', '16:00']], days: 'weekdays' },
  XLON: { timeZone: 'Europe/London', sessions: [['08:00', '16:30']], days: 'weekdays' },
  XETR: { timeZone: 'Europe/Berlin', sessions: [['09:00', '17:30']], days: 'weekdays' },
  XPAR: { timeZone: 'Europe/Paris', sessions: [['09:00', '17:30']], days: 'weekdays' },
  XAMS: { timeZone: 'Europe/Amsterdam', sessions: [['09:00', '17:30']], days: 'weekdays' },
  XBRU: { timeZone: 'Europe/Brussels', sessions: [['09:00', '17:30']], days: 'weekdays' },
  XMIL: { timeZone: 'Europe/Rome', sessions: [['09:00', '17:30']], days: 'weekdays' },
  XMAD: { timeZone: 'Europe/Madrid', sessions: [['09:00', '17:30']], days: 'weekdays' },
  XSWX: { timeZone: 'Europe/Zurich', sessions: [['09:00', '17:30']], days: 'weekdays' },
  XSTO: { timeZone: 'Europe/Stockholm', sessions: [['09:00', '17:30']], days: 'weekdays' },
  XCSE: { timeZone: 'Europe/Copenhagen', sessions: [['09:00', '17:00']], days: 'weekdays' },
  XHEL: { timeZone: 'Europe/Helsinki', sessions: [['10:00', '18:30']], days: 'weekdays' },
  XOSL: { timeZone: 'Europe/Oslo', sessions: [['09:00', '16:20']], days: 'weekdays' },
  XTKS: {
    timeZone: 'Asia/Tokyo',
    sessions: [
      ['09:00', '11:30'],
      ['12:30', '15:30'],
    ],
    days: 'weekdays',
  },
  XHKG: {
    timeZone: 'Asia/Hong_Kong',
    sessions: [
      ['09:30', '12:00'],
      ['13:00', '16:00'],
    ],
    days: 'weekdays',
  },
  XASX: { timeZone: 'Australia/Sydney', sessions: [['10:00', '16:00']], days: 'weekdays' },
  XNSE: { timeZone: 'Asia/Kolkata', sessions: [['09:15', '15:30']], days: 'weekdays' },
  XKRX: { timeZone: 'Asia/Seoul', sessions: [['09:00', '15:30']], days: 'weekdays' },
  XSES: {
    timeZone: 'Asia/Singapore',
    sessions: [
      ['09:00', '12:00'],
      ['13:00', '17:00'],
    ],
    days: 'weekdays',
  },
  XTAI: { timeZone: 'Asia/Taipei', sessions: [['09:00', '13:30']], days: 'weekdays' },
  [ALWAYS_OPEN_VENUE]: { timeZone: 'UTC', sessions: [['00:00', '24:00']], days: 'every day' },
};

export interface VenueStatus {
  state: MarketState;
  /** The venue's local date, which names its trading session. */
  sessionDate: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timeZone: string) {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const MINUTE = 60_000;

function hoursOf(mic: string): VenueHours {
  const hours = TRADING_HOURS[mic];
  if (!hours) throw new Error(`no trading hours known for the venue ${mic}`);
  return hours;
}

function localParts(timeZone: string, at: Date) {
  const parts = Object.fromEntries(
    formatterFor(timeZone)
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    weekend: parts.weekday === 'Sat' || parts.weekday === 'Sun',
    minute: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

/** Whether a venue trades at an instant, and its local trading date then. */
export function venueStatus(mic: string, at: Date): VenueStatus {
  const hours = hoursOf(mic);
  const local = localParts(hours.timeZone, at);
  if (hours.days === 'weekdays' && local.weekend) return { state: 'CLOSED', sessionDate: local.date };
  const open = hours.sessions.some(([from, to]) => local.minute >= minutes(from) && local.minute < minutes(to));
  return { state: open ? 'OPEN' : 'CLOSED', sessionDate: local.date };
}

/** Whether the venue's session runs all day, every day: it never closes. */
export function neverCloses(mic: string): boolean {
  const hours = hoursOf(mic);
  return hours.days === 'every day' && hours.sessions.some(([from, to]) => minutes(from) === 0 && minutes(to) === 24 * 60);
}

/** The UTC instant of a wall-clock time in a time zone (sessions never start in a daylight-saving gap). */
function zonedTime(timeZone: string, date: string, hhmm: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d) + minutes(hhmm) * MINUTE;
  // The offset at the wall time read as UTC is right unless a change of offset lies in between: then once more.
  const offsetAt = (instant: number) => {
    const local = localParts(timeZone, new Date(instant));
    const [ly, lm, ld] = local.date.split('-').map(Number) as [number, number, number];
    return Date.UTC(ly, lm - 1, ld) + local.minute * MINUTE - instant;
  };
  const first = wall - offsetAt(wall);
  return wall - offsetAt(first);
}

const nextOpenCache = new Map<string, { minute: number; value: Date | null }>();

/**
 * When a closed venue opens next (a lunch break's end included); null while it is open, and so
 * always for a venue that never closes. The answer holds for the whole minute (sessions start on
 * whole minutes), so it is remembered per venue and minute: a page of instruments costs one
 * reckoning per venue.
 */
export function nextOpen(mic: string, at: Date): Date | null {
  const minute = Math.floor(at.getTime() / MINUTE);
  const hit = nextOpenCache.get(mic);
  if (hit && hit.minute === minute) return hit.value;
  const value = reckonNextOpen(mic, at);
  nextOpenCache.set(mic, { minute, value });
  return value;
}

function reckonNextOpen(mic: string, at: Date): Date | null {
  const hours = hoursOf(mic);
  if (venueStatus(mic, at).state === 'OPEN') return null;
  const today = localParts(hours.timeZone, at).date;
  const [y, m, d] = today.split('-').map(Number) as [number, number, number];
  const starts = hours.sessions.map(([from]) => from).sort();
  // A week ahead always holds a weekday; the local date is walked as a calendar date (no time zone).
  for (let ahead = 0; ahead <= 7; ahead++) {
    const day = new Date(Date.UTC(y, m - 1, d + ahead));
    const weekday = day.getUTCDay();
    if (hours.days === 'weekdays' && (weekday === 0 || weekday === 6)) continue;
    const date = day.toISOString().slice(0, 10);
    for (const from of starts) {
      const instant = zonedTime(hours.timeZone, date, from);
      if (instant > at.getTime()) return new Date(instant);
    }
  }
  return null;
}
