import { QueryCommand, type Dynamo } from '@analytica/dynamo';
import { badInput } from '@analytica/errors';
import { venueStatus, type Instrument } from '@analytica/instruments';
import { bucketStart, CANDLE_INTERVALS, candleKey, isCandleInterval, type CandleInterval, type CandleItem } from '../store/candles.js';
import { changeOf, price, type Quote } from '../store/quote-codec.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** The longest range one request may ask for, per interval: about two thousand candles at most. */
export const MAX_RANGE_MS: Record<CandleInterval, number> = { '1m': DAY, '5m': 7 * DAY, '1h': 90 * DAY, '1d': 5 * 366 * DAY };
const RANGE_IN_WORDS: Record<CandleInterval, string> = { '1m': '24 hours', '5m': '7 days', '1h': '90 days', '1d': '5 years' };

export interface Candle {
  symbol: string;
  interval: CandleInterval;
  start: Date;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  trades: number;
}

export interface CandleStore {
  dynamo: Dynamo;
  table: string;
}

/** Checks a chart request; every refusal names the argument to fix. */
export function checkCandleRequest(interval: string, from: Date, to: Date): CandleInterval {
  if (!isCandleInterval(interval)) throw badInput('interval', `"${interval}" is not a candle interval; use one of ${CANDLE_INTERVALS.join(', ')}.`);
  if (to.getTime() <= from.getTime()) throw badInput('to', 'to must be later than from.');
  if (to.getTime() - from.getTime() > MAX_RANGE_MS[interval]) {
    throw badInput('from', `Ask for at most ${RANGE_IN_WORDS[interval]} of ${interval} candles at a time: a later from, or a coarser interval.`);
  }
  return interval;
}

/** Candles whose bucket starts in [from, to], oldest first; the bucket holding `from` is included. */
export async function readCandles(store: CandleStore, instrument: Instrument, interval: CandleInterval, from: Date, to: Date): Promise<Candle[]> {
  const fromBucket = interval === '1d' ? bucketStart('1d', 0, from.toISOString().slice(0, 10)) : bucketStart(interval, from.getTime(), '');
  const candles: Candle[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await store.dynamo.doc.send(
      new QueryCommand({
        TableName: store.table,
        KeyConditionExpression: 'pk = :pk AND #bucket BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#bucket': 'bucket' },
        ExpressionAttributeValues: { ':pk': candleKey(instrument.region, instrument.symbol, interval), ':from': fromBucket, ':to': to.getTime() },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of (page.Items ?? []) as CandleItem[]) candles.push(candleFromItem(instrument.symbol, interval, item));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return candles;
}

const candleFromItem = (symbol: string, interval: CandleInterval, item: CandleItem): Candle => ({
  symbol,
  interval,
  start: new Date(Number(item.bucket)),
  open: Number(item.open),
  high: Number(item.high),
  low: Number(item.low),
  close: Number(item.close),
  volume: Number(item.volume),
  trades: Number(item.trades),
});

/**
 * The quote rebuilt from stored candles, for when the live cache (Redis) cannot be read: the last
 * daily candle gives the session's open, high, low, volume and last price, the one before it the
 * previous close. Marked stale; bid and ask are unknown and shown as the last price, and the
 * venue's state is its scheduled one (nothing live says otherwise; a pair that trades around the
 * clock is not CLOSED because a cache is down). Without any candle: the reference price, no time.
 */
export async function staleQuote(store: CandleStore, instrument: Instrument, now = new Date()): Promise<Quote> {
  const page = await store.dynamo.doc.send(
    new QueryCommand({
      TableName: store.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': candleKey(instrument.region, instrument.symbol, '1d') },
      ScanIndexForward: false,
      Limit: 2,
    }),
  );
  const [latest, previous] = (page.Items ?? []) as CandleItem[];
  const last = latest ? Number(latest.close) : instrument.referencePrice;
  // The first session's previous close is the reference price, as in the live quote the feed starts from.
  const previousClose = previous ? Number(previous.close) : instrument.referencePrice;
  return {
    symbol: instrument.symbol,
    currency: instrument.currency,
    last,
    bid: last,
    ask: last,
    open: latest ? Number(latest.open) : last,
    high: latest ? Number(latest.high) : last,
    low: latest ? Number(latest.low) : last,
    previousClose: price(previousClose),
    ...changeOf(last, previousClose),
    volume: latest ? Number(latest.volume) : 0,
    time: latest ? new Date(latest.lastTime) : null,
    marketState: venueStatus(instrument.exchange, now).state,
    stale: true,
  };
}
