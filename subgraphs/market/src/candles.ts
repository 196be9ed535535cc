import { QueryCommand, type Dynamo } from '@analytica/dynamo';
import { badInput } from '@analytica/errors';
import type { Instrument, Region } from './instruments.js';
import { changeOf, price, type Quote } from './quotes.js';
import { venueStatus } from './venues.js';

export const CANDLE_INTERVALS = ['1m', '5m', '1h', '1d'] as const;
export type CandleInterval = (typeof CANDLE_INTERVALS)[number];

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const INTERVAL_MS: Record<CandleInterval, number> = { '1m': MINUTE, '5m': 5 * MINUTE, '1h': 60 * MINUTE, '1d': DAY };

/** The longest range one request may ask for, per interval: about two thousand candles at most. */
export const MAX_RANGE_MS: Record<CandleInterval, number> = { '1m': DAY, '5m': 7 * DAY, '1h': 90 * DAY, '1d': 5 * 366 * DAY };
const RANGE_IN_WORDS: Record<CandleInterval, string> = { '1m': '24 hours', '5m': '7 days', '1h': '90 days', '1d': '5 years' };

export const isCandleInterval = (value: string): value is CandleInterval => (CANDLE_INTERVALS as readonly string[]).includes(value);

/**
 * `US#AAPL#1m`: one DynamoDB partition per instrument and interval, region first like every
 * market key, so a chart is one Query over a contiguous range of the sort key (bucket start).
 */
export const candleKey = (region: Region, symbol: string, interval: CandleInterval) => `${region}#${symbol}#${interval}`;

/**
 * Start of the bucket a trade belongs to, in epoch milliseconds. Intraday buckets are aligned on
 * UTC; a daily candle is the venue's trading session, keyed by its local trading date (at 00:00Z),
 * because a session such as Sydney's runs across midnight UTC.
 */
export function bucketStart(interval: CandleInterval, exchangeTimeMs: number, sessionDate: string): number {
  if (interval === '1d') return Date.parse(`${sessionDate}T00:00:00.000Z`);
  const size = INTERVAL_MS[interval];
  return Math.floor(exchangeTimeMs / size) * size;
}

/** Partition key `pk` (instrument and interval), sort key `bucket` (bucket start, epoch ms). */
export function candlesTable(name: string): Parameters<Dynamo['ensureTable']>[0] {
  return {
    TableName: name,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'bucket', AttributeType: 'N' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'bucket', KeyType: 'RANGE' },
    ],
  };
}

/**
 * One stored candle as the ingest worker writes it. `lastSeq` is the sequence of the last tick
 * folded in: a tick at or below it is already counted, which is what makes redelivery harmless.
 */
export interface CandleItem {
  pk: string;
  bucket: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  trades: number;
  lastSeq: number;
  /** Exchange time of the trade that set `close`. */
  lastTime: string;
}

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
