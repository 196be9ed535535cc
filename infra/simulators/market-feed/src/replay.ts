import { readFile } from 'node:fs/promises';
import type { Instrument } from '@analytica/instruments';
import { createVenueClock } from './exchanges.js';
import { createRandom, quoteAround } from './prices.js';
import { createSequences, type TickPayload } from './ticks.js';

/** One trade to replay, at `offsetMs` after the file's first row. */
export interface ReplayTrade {
  offsetMs: number;
  time: number;
  symbol: string;
  last: number;
  size: number;
  bid?: number;
  ask?: number;
}

const TICK_COLUMNS = ['time', 'symbol', 'price', 'size'];
const BAR_COLUMNS = ['time', 'symbol', 'open', 'high', 'low', 'close', 'volume'];

/**
 * Reads a CSV of historical ticks (`time,symbol,price,size[,bid,ask]`) or bars
 * (`time,symbol,open,high,low,close,volume`, `time` the bar's start). A bar is replayed as four
 * trades inside it: open, then low and high (high first on a falling bar), then close, its volume
 * split between them. A bad line stops the start with its number and the reason.
 */
export function parseReplayCsv(text: string, instruments: ReadonlyMap<string, Instrument>, barSeconds: number): ReplayTrade[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const header = (lines.shift() ?? '').split(',').map((c) => c.trim().toLowerCase());
  const isBars = BAR_COLUMNS.every((c) => header.includes(c));
  if (!isBars && !TICK_COLUMNS.every((c) => header.includes(c))) {
    throw new Error(`replay file: the header must name ${TICK_COLUMNS.join(',')} (ticks) or ${BAR_COLUMNS.join(',')} (bars)`);
  }
  const col = (name: string) => header.indexOf(name);
  const trades: Omit<ReplayTrade, 'offsetMs'>[] = [];
  lines.forEach((line, n) => {
    if (!line || line.startsWith('#')) return;
    const cells = line.split(',').map((c) => c.trim());
    const where = `replay file line ${n + 2}`;
    const time = Date.parse(cells[col('time')] ?? '');
    if (!Number.isFinite(time)) throw new Error(`${where}: time must be an ISO 8601 instant`);
    const symbol = (cells[col('symbol')] ?? '').toUpperCase();
    if (!instruments.has(symbol)) throw new Error(`${where}: unknown symbol "${symbol}"`);
    const number = (name: string, optional = false) => {
      const raw = col(name) < 0 ? undefined : cells[col(name)];
      if ((raw === undefined || raw === '') && optional) return undefined;
      const value = Number(raw);
      if (!Number.isFinite(value) || value < 0) throw new Error(`${where}: ${name} must be a number of 0 or more`);
      return value;
    };
    if (!isBars) {
      trades.push({ time, symbol, last: number('price')!, size: Math.round(number('size')!), bid: number('bid', true), ask: number('ask', true) });
      return;
    }
    const [open, high, low, close, volume] = ['open', 'high', 'low', 'close', 'volume'].map((c) => number(c)!) as [number, number, number, number, number];
    if (high < Math.max(open, close, low) || low > Math.min(open, close)) throw new Error(`${where}: high and low must bound open and close`);
    const path = close >= open ? [open, low, high, close] : [open, high, low, close];
    const share = Math.floor(volume / 4);
    path.forEach((last, k) => {
      trades.push({ time: time + (k * barSeconds * 1000) / 4, symbol, last, size: k === 3 ? volume - 3 * share : share });
    });
  });
  if (trades.length === 0) throw new Error('replay file: no rows');
  trades.sort((a, b) => a.time - b.time);
  const first = trades[0]!.time;
  return trades.map((t) => ({ ...t, offsetMs: t.time - first }));
}

export async function readReplayFile(path: string, instruments: ReadonlyMap<string, Instrument>, barSeconds: number) {
  return parseReplayCsv(await readFile(path, 'utf8'), instruments, barSeconds);
}

export interface ReplayOptions {
  trades: readonly ReplayTrade[];
  instruments: ReadonlyMap<string, Instrument>;
  /** 1 plays in real time, 60 plays an hour in a minute. */
  speed: number;
  loop: boolean;
  /** rebase: the first row happens now; original: the file's own times (played once). */
  timestamps: 'rebase' | 'original';
  emit(tick: TickPayload): void;
}

/** Plays the trades at the chosen speed; `step` emits what is due and says whether anything is left. */
export function createReplay(options: ReplayOptions) {
  const clock = createVenueClock(true);
  const random = createRandom(1);
  const nextSeq = createSequences(Date.now());
  let startedMs = 0;
  let index = 0;
  let finished = false;

  function emitTrade(trade: ReplayTrade, exchangeMs: number) {
    const instrument = options.instruments.get(trade.symbol)!;
    const around = quoteAround(trade.last, instrument.currency, 1, random);
    options.emit({
      symbol: trade.symbol,
      region: instrument.region,
      last: trade.last,
      bid: trade.bid ?? around.bid,
      ask: trade.ask ?? around.ask,
      size: trade.size,
      exchangeTime: new Date(exchangeMs).toISOString(),
      seq: nextSeq(trade.symbol),
      marketState: trade.size > 0 ? 'OPEN' : 'CLOSED',
      sessionDate: clock(instrument.exchange, new Date(exchangeMs)).sessionDate,
    });
  }

  function step(nowMs: number): number {
    if (finished) return 0;
    if (!startedMs) startedMs = nowMs;
    const played = (nowMs - startedMs) * options.speed;
    let count = 0;
    while (index < options.trades.length && options.trades[index]!.offsetMs <= played) {
      const trade = options.trades[index++]!;
      emitTrade(trade, options.timestamps === 'original' ? trade.time : startedMs + trade.offsetMs / options.speed);
      count++;
    }
    if (index === options.trades.length) {
      if (options.loop && options.timestamps === 'rebase') {
        index = 0;
        startedMs = nowMs;
      } else {
        finished = true;
      }
    }
    return count;
  }
  return { step, finished: () => finished };
}
