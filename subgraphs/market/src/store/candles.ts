import type { Region } from '@analytica/instruments';
import type { Dynamo } from '@analytica/dynamo';

// Candles at rest: the ingest worker folds trades into them and writes them, the market subgraph
// reads them for charts and for quotes when Redis is away.

export const CANDLE_INTERVALS = ['1m', '5m', '1h', '1d'] as const;
export type CandleInterval = (typeof CANDLE_INTERVALS)[number];

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const INTERVAL_MS: Record<CandleInterval, number> = { '1m': MINUTE, '5m': 5 * MINUTE, '1h': 60 * MINUTE, '1d': DAY };

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
