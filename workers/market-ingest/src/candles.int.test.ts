import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { batchWrite, createDynamo, deleteTablesWithPrefix, QueryCommand, ScanCommand } from '@analytica/dynamo';
import { createKafkaBus, encodeEvent } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { createRedis } from '@analytica/redis';
import { eventually, services, uniqueName } from '@analytica/testing';
import { readTickFixture as readTicks, type TickPayload } from './fixtures/ticks.js';
import { parseMarketIngestEnv, startMarketIngest } from './index.js';

const topicPrefix = `${uniqueName('candles')}.`;
const keyPrefix = `${uniqueName('candles')}:`;
const tablePrefix = `${uniqueName('candles')}_`;
const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
const kafka = new Kafka({ clientId: 'candles-test', brokers: [services.kafkaBrokers], logLevel: logLevel.NOTHING });
const env = parseMarketIngestEnv({
  PORT: '0',
  LOG_LEVEL: process.env.TEST_LOG ?? 'silent',
  REDIS_URL: services.redisUrl,
  REDIS_KEY_PREFIX: keyPrefix,
  DYNAMODB_ENDPOINT: services.dynamoEndpoint,
  DYNAMODB_TABLE_PREFIX: tablePrefix,
  KAFKA_BROKERS: services.kafkaBrokers,
  KAFKA_TOPIC_PREFIX: topicPrefix,
  INGEST_FLUSH_MS: '150',
});

afterAll(async () => {
  const raw = createRedis(services.redisUrl);
  const keys = await raw.keys(`${keyPrefix}*`);
  if (keys.length) await raw.del(...keys);
  await raw.quit();
  await deleteTablesWithPrefix(dynamo, tablePrefix);
  dynamo.close();
});

interface Expected {
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  trades: number;
}

/**
 * The candles computed on their own, straight from the file: distinct trades by (symbol, seq),
 * grouped by bucket (UTC minute, five minutes, hour; the trading date for a day), in sequence order.
 */
function expectedCandles(ticks: TickPayload[]): Map<string, Expected> {
  const distinct = new Map<string, TickPayload>();
  for (const t of ticks) if (t.size > 0) distinct.set(`${t.symbol}/${t.seq}`, t);
  const sorted = [...distinct.values()].sort((a, b) => a.seq - b.seq);
  const candles = new Map<string, Expected>();
  const spans: [string, number][] = [
    ['1m', 60_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
  ];
  for (const t of sorted) {
    const ms = Date.parse(t.exchangeTime);
    const keys = spans.map(([name, span]) => `${t.region}#${t.symbol}#${name}|${Math.floor(ms / span) * span}`);
    keys.push(`${t.region}#${t.symbol}#1d|${Date.parse(`${t.sessionDate}T00:00:00Z`)}`);
    for (const key of keys) {
      const c = candles.get(key);
      if (!c) candles.set(key, { open: t.last, high: t.last, low: t.last, close: t.last, volume: t.size, trades: 1 });
      else {
        c.high = Math.max(c.high, t.last);
        c.low = Math.min(c.low, t.last);
        c.close = t.last;
        c.volume += t.size;
        c.trades++;
      }
    }
  }
  return candles;
}

async function storedCandles(partitionKeys: string[]): Promise<Map<string, Expected>> {
  const stored = new Map<string, Expected>();
  for (const pk of partitionKeys) {
    const page = await dynamo.doc.send(
      new QueryCommand({ TableName: `${tablePrefix}candles`, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true }),
    );
    for (const item of page.Items ?? []) {
      stored.set(`${pk}|${item.bucket}`, { open: item.open, high: item.high, low: item.low, close: item.close, volume: item.volume, trades: item.trades });
    }
  }
  return stored;
}

/** Waits until the group has committed every offset of the topic: every tick is in Redis and its candles are written. */
async function drained(groupId: string, topic: string) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await eventually(
      async () => {
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        // A partition no tick went to has nothing to commit.
        const done = ends.every((end) => end.high === end.low || committed?.partitions.find((p) => p.partition === end.partition)?.offset === end.high);
        return done ? true : undefined;
      },
      60_000,
      200,
    );
  } finally {
    await admin.disconnect();
  }
}

describe('candles', () => {
  it('match an independent computation over a fixed tick file, with duplicates, a full redelivery, and a crash before the candles were written', { timeout: 120_000 }, async () => {
    const ticks = await readTicks();
    expect(ticks.length).toBeGreaterThan(2000);
    const expected = expectedCandles(ticks);
    expect(new Set([...expected.keys()].filter((k) => k.includes('#1m|'))).size).toBeGreaterThan(30);
    const partitionKeys = [...new Set([...expected.keys()].map((k) => k.split('|')[0]!))];

    // Every tenth tick is produced a second time, further down the topic, as a producer retry would.
    const withDuplicates = ticks.flatMap((t, n) => (n % 10 === 5 && n + 40 < ticks.length ? [t] : []));
    const order = [...ticks];
    withDuplicates.forEach((t, n) => order.splice(Math.min(order.length, ticks.indexOf(t) + 40 + n), 0, t));
    const bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'candles-test', prefix: topicPrefix, logger: createLogger('test', 'silent') });
    for (let n = 0; n < order.length; n += 500) {
      await bus.publish(
        'market.ticks.v1',
        order.slice(n, n + 500).map((t) => encodeEvent('market.ticks.v1', t.symbol, t)),
      );
    }
    await bus.close();

    const topic = `${topicPrefix}market.ticks.v1`;
    const groupId = `${topicPrefix}market-ingest`;
    const first = await startMarketIngest(env);
    try {
      await drained(groupId, topic);
    } finally {
      await first.stop();
    }
    expect(await storedCandles(partitionKeys)).toEqual(expected);

    // Redelivery of the whole topic: the group starts again from the earliest offset.
    const admin = kafka.admin();
    await admin.connect();
    await admin.resetOffsets({ groupId, topic, earliest: true });
    await admin.disconnect();
    const second = await startMarketIngest(env);
    try {
      await drained(groupId, topic);
      const metrics = await (await fetch(`${second.metricsUrl}/metrics`)).text();
      // Every tick came again and every one was recognised as held already.
      expect(metrics).toMatch(new RegExp(`market_ingest_ticks_total\\{outcome="duplicate",service="market-ingest"\\} ${order.length}\\b`));
      expect(metrics).toMatch(/market_ingest_candle_writes_total\{service="market-ingest"\} 0\b/);
    } finally {
      await second.stop();
    }
    expect(await storedCandles(partitionKeys)).toEqual(expected);

    // A crash after the quotes reached Redis but before the candles were written: Redis is ahead
    // of DynamoDB. The redelivered ticks change no quote, yet every candle is written again.
    const items = await dynamo.doc.send(
      new ScanCommand({ TableName: `${tablePrefix}candles`, ProjectionExpression: 'pk, #bucket', ExpressionAttributeNames: { '#bucket': 'bucket' } }),
    );
    await batchWrite(
      dynamo,
      `${tablePrefix}candles`,
      (items.Items ?? []).map((Key) => ({ DeleteRequest: { Key } })),
    );
    expect((await storedCandles(partitionKeys)).size).toBe(0);
    const again = kafka.admin();
    await again.connect();
    await again.resetOffsets({ groupId, topic, earliest: true });
    await again.disconnect();
    const third = await startMarketIngest(env);
    try {
      await drained(groupId, topic);
      const metrics = await (await fetch(`${third.metricsUrl}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`market_ingest_ticks_total\\{outcome="duplicate",service="market-ingest"\\} ${order.length}\\b`));
    } finally {
      await third.stop();
    }
    expect(await storedCandles(partitionKeys)).toEqual(expected);
  });
});
