import { bucketStart, CANDLE_INTERVALS, candleKey, type CandleItem } from '@analytica/market-subgraph/store';
import type { Tick } from './ticks.js';

/**
 * One candle as the worker holds it between flushes. `storedSeq` is the `lastSeq` DynamoDB holds
 * (null: no item yet); the next write is conditional on it, and the candle needs writing while
 * `lastSeq` is ahead of it.
 */
export interface CandleEntry extends CandleItem {
  storedSeq: number | null;
}

export const entryId = (pk: string, bucket: number) => `${pk}|${bucket}`;

/** The (partition key, bucket) of every candle a trade belongs to: one per interval. */
export function candleSlots(tick: Tick): { pk: string; bucket: number }[] {
  return CANDLE_INTERVALS.map((interval) => ({
    pk: candleKey(tick.region, tick.symbol, interval),
    bucket: bucketStart(interval, tick.timeMs, tick.sessionDate),
  }));
}

/**
 * Walks one symbol's trades in order, handing out the candle of each interval that a trade
 * falls in; consecutive trades mostly share their buckets, so a bucket is looked up only when it
 * changes (a feed at 20,000 ticks a second would otherwise spend its time building keys).
 */
export function createSlotWalker<Slot>(tick: Pick<Tick, 'region' | 'symbol'>, lookup: (pk: string, bucket: number) => Slot) {
  const pks = CANDLE_INTERVALS.map((interval) => candleKey(tick.region, tick.symbol, interval));
  const buckets = CANDLE_INTERVALS.map(() => NaN);
  const entries: (Slot | undefined)[] = CANDLE_INTERVALS.map(() => undefined);
  let session = '';
  let day = NaN;
  return (trade: Tick): Slot[] => {
    if (trade.sessionDate !== session) {
      session = trade.sessionDate;
      day = bucketStart('1d', trade.timeMs, session);
    }
    for (let k = 0; k < CANDLE_INTERVALS.length; k++) {
      const interval = CANDLE_INTERVALS[k]!;
      const bucket = interval === '1d' ? day : bucketStart(interval, trade.timeMs, session);
      if (bucket !== buckets[k]) {
        buckets[k] = bucket;
        entries[k] = lookup(pks[k]!, bucket);
      }
    }
    return entries as Slot[];
  };
}

export function emptyEntry(pk: string, bucket: number): CandleEntry {
  return { pk, bucket, open: 0, high: 0, low: 0, close: 0, volume: 0, trades: 0, lastSeq: -1, lastTime: '', storedSeq: null };
}

/**
 * Folds a trade into a candle (in place). Ticks of one symbol arrive in sequence order (one
 * Kafka partition per symbol key), so a tick at or below `lastSeq` is one the candle already
 * counts: skipping it keeps the candle equal to the OHLCV of the set of distinct ticks, however
 * often any of them is delivered.
 */
export function mergeTrade(entry: CandleEntry, tick: Tick): boolean {
  if (tick.size === 0 || tick.seq <= entry.lastSeq) return false;
  if (entry.trades === 0) {
    entry.open = entry.high = entry.low = tick.last;
  }
  entry.high = Math.max(entry.high, tick.last);
  entry.low = Math.min(entry.low, tick.last);
  entry.close = tick.last;
  entry.volume += tick.size;
  entry.trades += 1;
  entry.lastSeq = tick.seq;
  entry.lastTime = tick.exchangeTime;
  return true;
}

export const isDirty = (entry: CandleEntry) => entry.trades > 0 && entry.lastSeq !== entry.storedSeq;
