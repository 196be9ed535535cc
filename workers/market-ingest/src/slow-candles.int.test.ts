import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDynamo, deleteTablesWithPrefix, QueryCommand } from '@analytica/dynamo';
import { readReferenceFile } from '@analytica/instruments';
import { createLogger } from '@analytica/logger';
import { candlesTable, quoteKey } from '@analytica/market-subgraph/store';
import { createRedis } from '@analytica/redis';
import { services, uniqueName } from '@analytica/testing';
import { startFaultProxy } from '@analytica/testing/fault-proxy';
import { CandlesUnread, createIngest } from './ingest.js';
import { aaplTrade as trade, noAlerts } from './fixtures/trades.js';

// DynamoDB slow under market-ingest: at every new minute each symbol starts new candles, which are
// read from DynamoDB first. Quotes are what users watch: they must not wait for those reads.
const tablePrefix = `${uniqueName('slowcandles')}_`;
const keyPrefix = `${uniqueName('slowcandles')}:`;
const tables = { candles: `${tablePrefix}candles`, priceAlerts: `${tablePrefix}price_alerts` };
const direct = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
const redis = createRedis(services.redisUrl, { keyPrefix });
let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
let slow: ReturnType<typeof createDynamo>;

beforeAll(async () => {
  const target = new URL(services.dynamoEndpoint);
  proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
  // A client that gives up on a call after 2 × 300 ms: every read through the slowed proxy fails.
  slow = createDynamo({ endpoint: `http://127.0.0.1:${proxy.port}`, region: 'eu-west-1', requestTimeoutMs: 300, maxAttempts: 2 });
  await direct.ensureTable(candlesTable(tables.candles));
});

afterAll(async () => {
  proxy?.delay(0);
  slow?.close();
  await proxy?.close();
  await redis.quit();
  // KEYS answers whole keys, which one plain client deletes (and then closes).
  const raw = createRedis(services.redisUrl);
  const keys = await raw.keys(`${keyPrefix}*`);
  if (keys.length) await raw.del(...keys);
  await raw.quit();
  await deleteTablesWithPrefix(direct, tablePrefix);
  direct.close();
});

async function minuteCandles() {
  const { Items = [] } = await direct.doc.send(
    new QueryCommand({ TableName: tables.candles, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'US#AAPL#1m' }, ConsistentRead: true }),
  );
  return Items.map(({ bucket, open, high, low, close, volume, trades, lastSeq }) => ({ bucket, open, high, low, close, volume, trades, lastSeq }));
}

it('writes quotes while new candles cannot be read, keeps their trades, and writes the candles whole once DynamoDB answers', async () => {
  const instruments = new Map((await readReferenceFile()).instruments.map((i) => [i.symbol, i]));
  const ingest = createIngest({ redis, dynamo: slow, tables, bus: noAlerts, instruments, channelPrefix: keyPrefix, logger: createLogger('market-ingest', 'silent') });
  const first = Date.parse('2026-12-04T15:30:00Z');

  await ingest.applyTicks([trade(1, 100), trade(2, 101)]);
  expect(await ingest.flushCandles()).toBe(4); // 1m, 5m, 1h and 1d

  // DynamoDB answers 3 s late from now on: every read of the next minute's candle fails.
  proxy.delay(3000);
  const started = performance.now();
  await ingest.applyTicks([trade(60, 103), trade(61, 99)]);
  await ingest.applyTicks([trade(62, 104)]);
  const tookMs = performance.now() - started;
  // The quotes are in Redis at once (a few Redis round trips), not after DynamoDB's timeouts.
  expect(tookMs).toBeLessThan(1000);
  expect(await redis.hmget(quoteKey('US', 'AAPL'), 'seq', 'last')).toEqual(['62', '104']);

  // A flush meanwhile writes nothing and says why: the new minute's trades wait for its candle.
  await expect(ingest.flushCandles()).rejects.toBeInstanceOf(CandlesUnread);
  expect(await minuteCandles()).toEqual([{ bucket: first, open: 100, high: 101, low: 100, close: 101, volume: 20, trades: 2, lastSeq: 2 }]);

  // A batch delivered again while the read is retried counts nothing twice.
  await ingest.applyTicks([trade(61, 99), trade(62, 104), trade(63, 102)]);

  proxy.delay(0);
  let written: number | undefined;
  for (let i = 0; i < 40 && written === undefined; i++) written = await ingest.flushCandles().catch(() => undefined);
  expect(written).toBe(4); // the new minute's 1m candle; the 5m, 1h and 1d candles moved on
  expect(await minuteCandles()).toEqual([
    { bucket: first, open: 100, high: 101, low: 100, close: 101, volume: 20, trades: 2, lastSeq: 2 },
    { bucket: first + 60_000, open: 103, high: 104, low: 99, close: 102, volume: 40, trades: 4, lastSeq: 63 },
  ]);
}, 60_000);
