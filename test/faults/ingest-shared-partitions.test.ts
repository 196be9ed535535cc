// Two market-ingest workers share the tick topic's partitions and one is SIGKILLed mid-stream
// (issue 20, acceptance 3). The same fixed tick file (about 2,000 trades of three symbols, each
// tenth produced twice as a producer retry would) goes through two runs, each with its own topics,
// Redis keys and tables:
//
// - undisturbed: one worker reads everything;
// - disturbed: two workers in one group, the tick file produced in chunks while they read, and the
//   worker that holds partitions SIGKILLed after the first chunks: its partitions go to the other
//   once the group's session timeout (6 s here) passes, and it resumes from the last committed
//   offset, so it reads again what the dead one had read but not committed.
//
// Expected: the candles in DynamoDB, the quotes in Redis and the set of price-alert events (by event
// id; an alert the dead worker published may come again with the same id, which consumers drop)
// are those of the undisturbed run. Nothing lost, nothing counted twice.
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { createDynamo, deleteTablesWithPrefix, ScanCommand } from '@analytica/dynamo';
import { createKafkaBus, encodeEvent, HEADER } from '@analytica/events';
import { readTickFixture as readTicks, type TickPayload } from '@analytica/market-ingest-worker/fixtures';
import { createLogger } from '@analytica/logger';
import { createRedis } from '@analytica/redis';
import { eventually, freePort, services, uniqueName } from '@analytica/testing';
import { entryOf, repoRoot, spawnService, stopProcess, waitUntilReady, type ServiceProcess } from '../../dev/src/processes.js';

const SESSION_TIMEOUT_MS = 6000;
const CHUNKS = 12;
const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
const kafka = new Kafka({ clientId: 'shared-partitions-test', brokers: [services.kafkaBrokers], logLevel: logLevel.NOTHING });
const runs: string[] = [];
const workers: ServiceProcess[] = [];

afterAll(async () => {
  await Promise.all(workers.map((w) => stopProcess(w)));
  const redis = createRedis(services.redisUrl);
  for (const run of runs) {
    const keys = await redis.keys(`${run}:*`);
    if (keys.length) await redis.del(...keys);
    await deleteTablesWithPrefix(dynamo, `${run}_`);
  }
  await redis.quit();
  dynamo.close();
});

/** Two alerts per symbol, ABOVE and BELOW around the middle of its prices: each crosses many times. */
function alertsFor(ticks: TickPayload[]) {
  const bySymbol = new Map<string, { region: string; prices: number[] }>();
  for (const t of ticks) if (t.size > 0) (bySymbol.get(t.symbol) ?? bySymbol.set(t.symbol, { region: t.region, prices: [] }).get(t.symbol)!).prices.push(t.last);
  return [...bySymbol].flatMap(([symbol, { region, prices }], i) => {
    const sorted = [...prices].sort((a, b) => a - b);
    const middle = sorted[Math.floor(sorted.length / 2)]!;
    return (['ABOVE', 'BELOW'] as const).map((direction, n) => ({
      alertId: `00000000-0000-4000-8000-0000000000${i}${n}`,
      userId: '00000000-0000-4000-8000-00000000a1e7',
      symbol,
      region,
      direction,
      threshold: middle,
    }));
  });
}

interface Outcome {
  candles: Map<string, unknown>;
  quotes: Map<string, Record<string, string>>;
  alertEvents: Set<string>;
  alertMessages: number;
}

async function startWorker(run: string, name: string) {
  const worker = spawnService(
    name,
    entryOf('market-ingest'),
    await freePort(),
    {
      LOG_LEVEL: 'warn',
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: `${run}:`,
      DYNAMODB_ENDPOINT: services.dynamoEndpoint,
      DYNAMODB_TABLE_PREFIX: `${run}_`,
      KAFKA_BROKERS: services.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: `${run}.`,
      INGEST_FLUSH_MS: '500',
      KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
      METRICS_PORT: String(await freePort()),
    },
    path.join(repoRoot, '.data/test-logs', run),
  );
  workers.push(worker);
  await waitUntilReady(worker);
  return worker;
}

/** Ticks this worker has read so far (applied or recognised as held), from its /metrics. */
async function ticksRead(worker: ServiceProcess): Promise<number> {
  const text = await (await fetch(`${worker.metricsUrl}/metrics`)).text();
  return [...text.matchAll(/^market_ingest_ticks_total\{outcome="(?:applied|duplicate)"[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

/** Until the group has committed every offset of the topic: every tick applied and its candles written. */
async function drained(run: string) {
  const topic = `${run}.market.ticks.v1`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await eventually(
      async () => {
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId: `${run}.market-ingest`, topics: [topic] });
        const done = ends.every((end) => end.high === end.low || committed?.partitions.find((p) => p.partition === end.partition)?.offset === end.high);
        return done ? true : undefined;
      },
      90_000,
      250,
    );
  } finally {
    await admin.disconnect();
  }
}

async function outcomeOf(run: string, symbols: { symbol: string; region: string }[]): Promise<Outcome> {
  const items = await dynamo.doc.send(new ScanCommand({ TableName: `${run}_candles`, ConsistentRead: true }));
  const candles = new Map<string, unknown>();
  for (const { pk, bucket, open, high, low, close, volume, trades } of items.Items ?? []) candles.set(`${pk}|${bucket}`, { open, high, low, close, volume, trades });

  const redis = createRedis(services.redisUrl, { keyPrefix: `${run}:` });
  const quotes = new Map<string, Record<string, string>>();
  for (const { symbol, region } of symbols) quotes.set(symbol, await redis.hgetall(`quote:{${region}:${symbol}}`));
  await redis.quit();

  // Every price-alert event on the topic, read from the start up to its end offsets.
  const topic = `${run}.market.price-alert.v1`;
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = ends.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  const alertEvents = new Set<string>();
  let alertMessages = 0;
  const reader = kafka.consumer({ groupId: `${run}.test-reader` });
  await reader.connect();
  await reader.subscribe({ topic, fromBeginning: true });
  await reader.run({
    eachMessage: async ({ message }) => {
      alertMessages++;
      alertEvents.add(String(message.headers?.[HEADER.id]));
    },
  });
  await eventually(async () => (alertMessages >= total ? true : undefined), 30_000, 100);
  await reader.disconnect();
  return { candles, quotes, alertEvents, alertMessages };
}

async function produce(run: string, ticks: TickPayload[], chunks: number, between: (chunk: number) => Promise<void>) {
  const bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'shared-partitions-test', prefix: `${run}.`, logger: createLogger('test', 'silent') });
  const size = Math.ceil(ticks.length / chunks);
  try {
    for (let chunk = 0; chunk * size < ticks.length; chunk++) {
      await bus.publish(
        'market.ticks.v1',
        ticks.slice(chunk * size, (chunk + 1) * size).map((t) => encodeEvent('market.ticks.v1', t.symbol, t)),
      );
      await between(chunk);
    }
  } finally {
    await bus.close();
  }
}

async function indexAlerts(run: string, alerts: ReturnType<typeof alertsFor>) {
  const redis = createRedis(services.redisUrl, { keyPrefix: `${run}:` });
  for (const a of alerts) await redis.hset(`alerts:{${a.region}:${a.symbol}}`, a.alertId, JSON.stringify({ userId: a.userId, direction: a.direction, threshold: a.threshold }));
  await redis.incr('alerts:version');
  await redis.quit();
}

describe('market-ingest workers sharing partitions', () => {
  it('with one SIGKILLed mid-stream, candles, quotes and price alerts equal those of one undisturbed worker', { timeout: 240_000 }, async () => {
    const ticks = await readTicks();
    // Each tenth tick a second time, 40 places later, as a producer retry would.
    const order = [...ticks];
    ticks.forEach((t, n) => {
      if (n % 10 === 5 && n + 40 < ticks.length) order.splice(Math.min(order.length, n + 40 + Math.floor(n / 10)), 0, t);
    });
    const alerts = alertsFor(ticks);
    const symbols = [...new Map(ticks.map((t) => [t.symbol, { symbol: t.symbol, region: t.region }])).values()];

    // Undisturbed: one worker, everything at once.
    const single = uniqueName('ingest_single');
    runs.push(single);
    await indexAlerts(single, alerts);
    const only = await startWorker(single, 'ingest-single');
    await produce(single, order, 1, async () => {});
    await drained(single);
    await stopProcess(only);
    const expected = await outcomeOf(single, symbols);
    expect(expected.candles.size).toBeGreaterThan(50);
    expect(expected.alertEvents.size).toBeGreaterThan(10);

    // Disturbed: two workers; the tick file in chunks; one holding partitions killed after the third chunk.
    const shared = uniqueName('ingest_shared');
    runs.push(shared);
    await indexAlerts(shared, alerts);
    const a = await startWorker(shared, 'ingest-a');
    const b = await startWorker(shared, 'ingest-b');
    let killed: ServiceProcess | undefined;
    let survivor: ServiceProcess = b;
    let readByKilled = 0;
    await produce(shared, order, CHUNKS, async (chunk) => {
      if (chunk === 2) {
        // The worker that has read ticks of this topic holds partitions with data (three symbols
        // over three partitions may leave one empty, and the other worker with only that one).
        const victim = await eventually(async () => ((await ticksRead(a)) > 0 ? a : (await ticksRead(b)) > 0 ? b : undefined), 30_000, 100);
        survivor = victim === a ? b : a;
        killed = victim;
        readByKilled = await ticksRead(victim);
        victim.child.kill('SIGKILL');
        await victim.exited;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    });
    await drained(shared);
    const survivorRead = await ticksRead(survivor);
    await stopProcess(survivor);
    const disturbed = await outcomeOf(shared, symbols);
    console.log(
      `shared partitions: ${order.length} tick messages; the killed worker read ${readByKilled} before SIGKILL, the survivor ${survivorRead} ` +
        `(${survivorRead + readByKilled - order.length} read twice); ${disturbed.candles.size} candles, ${disturbed.alertEvents.size} alert events ` +
        `(${disturbed.alertMessages} messages; undisturbed ${expected.alertMessages})`,
    );

    expect(killed?.child.signalCode).toBe('SIGKILL');
    // The survivor took over the killed worker's partitions: it read at least every tick message
    // produced after the kill (all three symbols tick to the end of the file). The two counts need
    // not add up to the total: the dead one may read and commit more between its count and the kill.
    expect(survivorRead).toBeGreaterThanOrEqual(order.length - 3 * Math.ceil(order.length / CHUNKS));
    expect(disturbed.candles).toEqual(expected.candles);
    expect(disturbed.quotes).toEqual(expected.quotes);
    expect([...disturbed.alertEvents].sort()).toEqual([...expected.alertEvents].sort());
  });
});
