/**
 * Regular trading hours of the venues in the reference file (local time, Monday to Friday; public
 * holidays and auctions are left out). Lunch breaks are two sessions on the same trading date.
 */
export const TRADING_HOURS: Record<string, { timeZone: string; sessions: [string, string][] }> = {
  XNYS: { timeZone: 'America/New_York', sessions: [['09:30', '16:00']] },
  XNAS: { timeZone: 'America/New_York', sessions: [['09:30', '16:00']] },
  XLON: { timeZone: 'Europe/London', sessions: [['08:00', '16:30']] },
  XETR: { timeZone: 'Europe/Berlin', sessions: [['09:00', '17:30']] },
  XPAR: { timeZone: 'Europe/Paris', sessions: [['09:00', '17:30']] },
  XAMS: { timeZone: 'Europe/Amsterdam', sessions: [['09:00', '17:30']] },
  XBRU: { timeZone: 'Europe/Brussels', sessions: [['09:00', '17:30']] },
  XMIL: { timeZone: 'Europe/Rome', sessions: [['09:00', '17:30']] },
  XMAD: { timeZone: 'Europe/Madrid', sessions: [['09:00', '17:30']] },
  XSWX: { timeZone: 'Europe/Zurich', sessions: [['09:00', '17:30']] },
  XSTO: { timeZone: 'Europe/Stockholm', sessions: [['09:00', '17:30']] },
  XCSE: { timeZone: 'Europe/Copenhagen', sessions: [['09:00', '17:00']] },
  XHEL: { timeZone: 'Europe/Helsinki', sessions: [['10:00', '18:30']] },
  XOSL: { timeZone: 'Europe/Oslo', sessions: [['09:00', '16:20']] },
  XTKS: { timeZone: 'Asia/Tokyo', sessions: [['09:00', '11:30'], ['12:30', '15:30']] },
  XHKG: { timeZone: 'Asia/Hong_Kong', sessions: [['09:30', '12:00'], ['13:00', '16:00']] },
  XASX: { timeZone: 'Australia/Sydney', sessions: [['10:00', '16:00']] },
  XNSE: { timeZone: 'Asia/Kolkata', sessions: [['09:15', '15:30']] },
  XKRX: { timeZone: 'Asia/Seoul', sessions: [['09:00', '15:30']] },
  XSES: { timeZone: 'Asia/Singapore', sessions: [['09:00', '12:00'], ['13:00', '17:00']] },
  XTAI: { timeZone: 'Asia/Taipei', sessions: [['09:00', '13:30']] },
};

export type MarketState = 'OPEN' | 'CLOSED';

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

/** Whether a venue trades at an instant, and its local trading date then. */
export function venueStatus(mic: string, at: Date): VenueStatus {
  const hours = TRADING_HOURS[mic];
  if (!hours) throw new Error(`no trading hours known for the venue ${mic}`);
  const parts = Object.fromEntries(formatterFor(hours.timeZone).formatToParts(at).map((p) => [p.type, p.value]));
  const sessionDate = `${parts.year}-${parts.month}-${parts.day}`;
  if (parts.weekday === 'Sat' || parts.weekday === 'Sun') return { state: 'CLOSED', sessionDate };
  const now = Number(parts.hour) * 60 + Number(parts.minute);
  const open = hours.sessions.some(([from, to]) => now >= minutes(from) && now < minutes(to));
  return { state: open ? 'OPEN' : 'CLOSED', sessionDate };
}

/** venueStatus, remembered for a second: the feed asks for every tick. */
export function createVenueClock(alwaysOpen: boolean) {
  const cache = new Map<string, { second: number; status: VenueStatus }>();
  return (mic: string, at: Date): VenueStatus => {
    const second = Math.floor(at.getTime() / 1000);
    const hit = cache.get(mic);
    if (hit && hit.second === second) return hit.status;
    const status = venueStatus(mic, at);
    if (alwaysOpen) status.state = 'OPEN';
    cache.set(mic, { second, status });
    return status;
  };
}
