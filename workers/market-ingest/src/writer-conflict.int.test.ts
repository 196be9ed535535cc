import { afterAll, expect, it } from 'vitest';
import { createDynamo, deleteTablesWithPrefix, QueryCommand } from '@analytica/dynamo';
import type { EventBus } from '@analytica/events';
import { readReferenceFile } from '@analytica/instruments';
import { createLogger } from '@analytica/logger';
import { candlesTable } from '@analytica/market-subgraph/store';
import { createRedis } from '@analytica/redis';
import { services, uniqueName } from '@analytica/testing';
import { createIngest, WriterConflict } from './ingest.js';
import type { Tick } from './ticks.js';

// Two workers that both believe they own a symbol (the moments around a rebalance): the one whose
// view of a candle is out of date must not write it back over the other's.
const tablePrefix = `${uniqueName('conflict')}_`;
const keyPrefix = uniqueName('conflict');
const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
const redisA = createRedis(services.redisUrl, { keyPrefix: `${keyPrefix}-a:` });
const redisB = createRedis(services.redisUrl, { keyPrefix: `${keyPrefix}-b:` });
const tables = { candles: `${tablePrefix}candles`, priceAlerts: `${tablePrefix}price_alerts` };

afterAll(async () => {
  for (const redis of [redisA, redisB]) {
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length) await createRedis(services.redisUrl).del(...keys);
    await redis.quit();
  }
  await deleteTablesWithPrefix(dynamo, tablePrefix);
  dynamo.close();
});

const noAlerts: EventBus = {
  publish: () => Promise.reject(new Error('no alert rule exists here, so nothing is published')),
} as unknown as EventBus;

function trade(seq: number, last: number): Tick {
  const timeMs = Date.parse('2026-12-04T15:30:00Z') + seq * 1000;
  return {
    symbol: 'AAPL',
    region: 'US',
    bid: last - 0.01,
    ask: last + 0.01,
    last,
    size: 10,
    seq,
    exchangeTime: new Date(timeMs).toISOString(),
    timeMs,
    marketState: 'OPEN',
    sessionDate: '2026-12-04',
  };
}

it('a flush refuses to write candles another writer moved since this worker read them, and writes none of its own', async () => {
  await dynamo.ensureTable(candlesTable(tables.candles));
  const instruments = new Map((await readReferenceFile()).instruments.map((i) => [i.symbol, i]));
  const logger = createLogger('market-ingest', 'silent');
  const worker = (redis: typeof redisA) => createIngest({ redis, dynamo, tables, bus: noAlerts, instruments, channelPrefix: keyPrefix, logger });
  const a = worker(redisA);
  const b = worker(redisB);

  await a.applyTicks([trade(1, 100), trade(2, 101)]);
  expect(await a.flushCandles()).toBe(4); // 1m, 5m, 1h and 1d
  // B takes over: it reads A's candles and adds a trade.
  await b.applyTicks([trade(3, 105)]);
  expect(await b.flushCandles()).toBe(4);
  // A still thinks it owns the symbol and has a later trade of its own.
  await a.applyTicks([trade(4, 99)]);
  await expect(a.flushCandles()).rejects.toBeInstanceOf(WriterConflict);

  const minute = await dynamo.doc.send(
    new QueryCommand({ TableName: tables.candles, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'US#AAPL#1m' }, ConsistentRead: true }),
  );
  expect(minute.Items?.map(({ open, high, low, close, trades, lastSeq }) => ({ open, high, low, close, trades, lastSeq }))).toEqual([
    { open: 100, high: 105, low: 100, close: 105, trades: 3, lastSeq: 3 },
  ]);
});
