import client from 'prom-client';
import { dynamoFromEnv } from '@analytica/dynamo';
import { busFromEnv, type EventBus } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { readReferenceFile } from '@analytica/instruments';
import { candlesTable, marketTables, priceAlertsTable } from '@analytica/market-subgraph/store';
import { createRedis, pingRedis, type Redis } from '@analytica/redis';
import { createHttpService, lifecycle } from '@analytica/service';
import { consumeTicksFromBus, consumeTicksFromKafka, type TickConsumer } from './consumer.js';
import type { MarketIngestEnv } from './environment.js';
import { createIngest } from './ingest.js';
import { createLiveAlerts, createMoversPublisher } from './live.js';

export { marketIngestEnvShape, parseMarketIngestEnv, type MarketIngestEnv } from './environment.js';

export interface Dependencies {
  /**
   * The embedded runner's local event log: ticks are then read one at a time from it. Without it
   * the worker reads Kafka in batches itself. Not closed here.
   */
  bus?: EventBus;
  /** A client with its key prefix already set; not closed here. */
  redis?: Redis;
}

/**
 * Starts the market ingest worker: ticks from `market.ticks.v1` become the latest quote per
 * symbol in Redis (published on the symbol's channel), OHLCV candles in DynamoDB, movers per
 * region, and `market.price-alert.v1` events when a price crosses an alert; live, each firing to
 * the alert's owner and each region's changed ranking at most once a second (live.ts).
 */
export async function startMarketIngest(env: MarketIngestEnv, deps: Dependencies = {}) {
  const logger = createLogger('market-ingest', env.LOG_LEVEL);
  const resources = lifecycle(logger);
  const redis =
    deps.redis ??
    (await resources.open(
      'redis',
      () => createRedis(env.REDIS_URL, { keyPrefix: env.REDIS_KEY_PREFIX, name: 'market-ingest', onError: (err) => logger.warn({ err }, 'redis connection error') }),
      (r) => r.quit().catch(() => r.disconnect()),
    ));
  const dynamo = await resources.open(
    'dynamodb',
    () => dynamoFromEnv(env),
    (d) => d.close(),
  );
  const bus =
    deps.bus ??
    (await resources.open(
      'kafka',
      () => busFromEnv(env, 'market-ingest', logger),
      (b) => b.close(),
    ));
  const tables = marketTables(env.DYNAMODB_TABLE_PREFIX);
  let consumer: TickConsumer | undefined;
  const movers = await resources.open(
    'movers publisher',
    () => createMoversPublisher({ redis, channelPrefix: env.REDIS_KEY_PREFIX, logger }),
    (m) => m.stop(),
  );

  const service = createHttpService({
    name: 'market-ingest',
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT,
    metricsHost: env.METRICS_HOST,
    logger,
    readiness: {
      redis: () => pingRedis(redis),
      dynamodb: dynamo.ping,
      [deps.bus ? 'events' : 'kafka']: async () => {
        if (!consumer?.ready()) throw new Error('not consuming yet (joining the consumer group)');
      },
    },
    onStop: resources.closeAll,
  });
  const metrics = ingestMetrics(service.registry);

  await resources.run('ticks', async () => {
    await dynamo.ensureTable(candlesTable(tables.candles));
    await dynamo.ensureTable(priceAlertsTable(tables.priceAlerts));
    const reference = await readReferenceFile();
    const instruments = new Map(reference.instruments.map((i) => [i.symbol, i]));
    const ingest = createIngest({
      redis,
      dynamo,
      tables,
      bus,
      instruments,
      channelPrefix: env.REDIS_KEY_PREFIX,
      logger,
      observe: (stage, seconds) => metrics.stage.observe({ stage }, seconds),
      live: {
        alertsFired: createLiveAlerts({ redis, channelPrefix: env.REDIS_KEY_PREFIX, logger }),
        moversWritten: (regions) => movers.written(regions),
      },
    });
    const common = {
      ingest,
      bus,
      instruments,
      logger,
      groupId: env.INGEST_GROUP_ID,
      flushMs: env.INGEST_FLUSH_MS,
      onBatch: metrics.onBatch,
      onFlush: metrics.onFlush,
      onReset: () => metrics.resets.inc(),
    };
    consumer = await resources.open(
      'tick consumer',
      () =>
        deps.bus
          ? consumeTicksFromBus(common)
          : consumeTicksFromKafka({
              ...common,
              brokers: env.KAFKA_BROKERS,
              prefix: env.KAFKA_TOPIC_PREFIX,
              partitionsConcurrency: env.INGEST_PARTITIONS_CONCURRENCY,
              fetchWaitMs: env.INGEST_FETCH_WAIT_MS,
              sessionTimeoutMs: env.KAFKA_SESSION_TIMEOUT_MS,
            }),
      async (c) => {
        await c.stop();
        ingest.reset(); // ends candle reads still retrying: their ticks are read again after a restart
      },
    );
    logger.info({ instruments: instruments.size, transport: deps.bus ? deps.bus.kind : 'kafka' }, 'consuming ticks');
  });
  return resources.run('http server', () => service.start());
}

function ingestMetrics(registry: client.Registry) {
  const ticks = new client.Counter({
    name: 'market_ingest_ticks_total',
    help: 'Ticks read, by outcome: applied (changed a quote), duplicate (already held), dead_letter (malformed or unknown)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const alerts = new client.Counter({ name: 'market_ingest_alerts_fired_total', help: 'Price alerts fired', registers: [registry] });
  const batches = new client.Histogram({
    name: 'market_ingest_batch_size',
    help: 'Ticks per batch',
    buckets: [1, 10, 100, 500, 1000, 2000, 5000, 10_000],
    registers: [registry],
  });
  const latency = new client.Histogram({
    name: 'market_ingest_tick_latency_seconds',
    help: 'From the exchange time of a tick to its quote being written to Redis',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const stage = new client.Histogram({
    name: 'market_ingest_stage_seconds',
    help: 'Time per batch in each stage: load (quotes not cached, alert rules), alerts (publishing), redis (quote writes), candles (reading candles not cached from DynamoDB; in the background, quotes do not wait for it)',
    labelNames: ['stage'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const candleWrites = new client.Counter({ name: 'market_ingest_candle_writes_total', help: 'Candles written to DynamoDB', registers: [registry] });
  const flush = new client.Histogram({
    name: 'market_ingest_flush_seconds',
    help: 'Time to write the candles of one flush',
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const resets = new client.Counter({
    name: 'market_ingest_resets_total',
    help: 'Times the caches were dropped because another writer changed a quote or candle (a rebalance)',
    registers: [registry],
  });
  return {
    stage,
    resets,
    onBatch(outcome: { applied: number; duplicates: number; alerts: number; deadLetters: number; quoteTimes: number[] }) {
      ticks.inc({ outcome: 'applied' }, outcome.applied);
      ticks.inc({ outcome: 'duplicate' }, outcome.duplicates);
      ticks.inc({ outcome: 'dead_letter' }, outcome.deadLetters);
      alerts.inc(outcome.alerts);
      batches.observe(outcome.applied + outcome.duplicates + outcome.deadLetters);
      const now = Date.now();
      // A sample is enough for the histogram; observing 20,000 values a second would cost more than it tells.
      const step = Math.max(1, Math.floor(outcome.quoteTimes.length / 20));
      for (let n = 0; n < outcome.quoteTimes.length; n += step) latency.observe((now - outcome.quoteTimes[n]!) / 1000);
    },
    onFlush(written: number, seconds: number) {
      candleWrites.inc(written);
      if (written) flush.observe(seconds);
    },
  };
}
