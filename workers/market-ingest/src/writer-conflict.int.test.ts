import { afterAll, expect, it } from 'vitest';
import { createDynamo, deleteTablesWithPrefix, QueryCommand } from '@analytica/dynamo';
import { readReferenceFile } from '@analytica/instruments';
import { createLogger } from '@analytica/logger';
import { candlesTable } from '@analytica/market-subgraph/store';
import { createRedis } from '@analytica/redis';
import { services, uniqueName } from '@analytica/testing';
import { createIngest, WriterConflict } from './ingest.js';
import { aaplTrade as trade, noAlerts } from './fixtures/trades.js';

// Two workers that both believe they own a symbol (the moments around a rebalance): the one whose
// view of a candle is out of date must not write it back over the other's.
const tablePrefix = `${uniqueName('conflict')}_`;
const keyPrefix = uniqueName('conflict');
const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
const redisA = createRedis(services.redisUrl, { keyPrefix: `${keyPrefix}-a:` });
const redisB = createRedis(services.redisUrl, { keyPrefix: `${keyPrefix}-b:` });
const tables = { candles: `${tablePrefix}candles`, priceAlerts: `${tablePrefix}price_alerts` };

afterAll(async () => {
  for (const redis of [redisA, redisB]) await redis.quit();
  // KEYS answers whole keys, which one plain client deletes (and then closes).
  const raw = createRedis(services.redisUrl);
  const keys = await raw.keys(`${keyPrefix}*`);
  if (keys.length) await raw.del(...keys);
  await raw.quit();
  await deleteTablesWithPrefix(dynamo, tablePrefix);
  dynamo.close();
});

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
