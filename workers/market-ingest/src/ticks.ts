import { contracts } from '@analytica/events';
import type { Instrument, MarketState, Region } from '@analytica/instruments';

export const TICKS_TOPIC = 'market.ticks.v1';

/** A tick that passed its contract and names a known instrument in the right region. */
export interface Tick {
  symbol: string;
  region: Region;
  bid: number;
  ask: number;
  last: number;
  /** 0 for a status message (the venue opening or closing), else the shares traded. */
  size: number;
  seq: number;
  exchangeTime: string;
  timeMs: number;
  marketState: MarketState;
  sessionDate: string;
}

export type ParsedTick = { ok: true; tick: Tick } | { ok: false; reason: string };

/** Checks one message; a refusal says why, for the dead-letter topic. */
export function parseTick(value: string, instruments: ReadonlyMap<string, Instrument>): ParsedTick {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return { ok: false, reason: 'malformed message: not JSON' };
  }
  const parsed = contracts[TICKS_TOPIC].safeParse(json);
  if (!parsed.success) {
    return { ok: false, reason: `malformed message: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ')}` };
  }
  const t = parsed.data;
  const instrument = instruments.get(t.symbol);
  if (!instrument) return { ok: false, reason: `unknown symbol "${t.symbol}": not in the reference instruments` };
  if (instrument.region !== t.region) return { ok: false, reason: `${t.symbol} is listed in ${instrument.region}, not ${t.region}` };
  const timeMs = Date.parse(t.exchangeTime);
  return {
    ok: true,
    tick: {
      symbol: t.symbol,
      region: t.region,
      bid: t.bid,
      ask: t.ask,
      last: t.last,
      size: t.size,
      seq: t.seq,
      exchangeTime: new Date(timeMs).toISOString(),
      timeMs,
      marketState: t.marketState ?? 'OPEN',
      sessionDate: t.sessionDate ?? new Date(timeMs).toISOString().slice(0, 10),
    },
  };
}
