/**
 * Test support (not a test): market data end to end, in-process. The market service, its ingest
 * worker reading ticks from Kafka, and the real gateway over a supergraph of the market subgraph
 * alone (composed here as `npm run compose` would), all on stores of their own: a Redis key prefix,
 * a DynamoDB table prefix and a Kafka topic prefix made for the run. Ticks are produced to Kafka as
 * the market feed would.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { createKafkaBus, encodeEvent, type EventPayload } from '@analytica/events';
import { parseGatewayEnv, startGateway } from '@analytica/gateway';
import { createLogger } from '@analytica/logger';
import { parseMarketIngestEnv, startMarketIngest } from '@analytica/market-ingest-worker';
import { buildMarketSchema, parseMarketEnv, startMarketService } from '@analytica/market-subgraph';
import { createRedis } from '@analytica/redis';
import { compose } from '@analytica/schema';
import { printSdl } from '@analytica/subgraph';
import { createTestAuth, eventually, services, uniqueName } from '@analytica/testing';

export type TickPayload = EventPayload<'market.ticks.v1'>;

/** Starts everything; `name` tells this run's prefixes, folder and Kafka client apart from another file's. */
export async function startMarketHarness(name: string) {
  const logger = createLogger('test', 'silent');
  const topicPrefix = `${uniqueName(name)}.`;
  const keyPrefix = `${uniqueName(name)}:`;
  const tablePrefix = `${uniqueName(name)}_`;
  const stores = { REDIS_URL: services.redisUrl, REDIS_KEY_PREFIX: keyPrefix, DYNAMODB_ENDPOINT: services.dynamoEndpoint, DYNAMODB_TABLE_PREFIX: tablePrefix };
  /** This run's Redis, through the same key prefix as the services. */
  const redis = createRedis(services.redisUrl, { keyPrefix });
  /** Without the prefix: for pub/sub, whose channels ioredis does not prefix, and for the clean-up. */
  const raw = createRedis(services.redisUrl);
  const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });

  // What is started is stopped again, in reverse order, also when a later start fails.
  const cleanups: (() => Promise<unknown>)[] = [
    async () => {
      const keys = await raw.keys(`${keyPrefix}*`);
      if (keys.length) await raw.del(...keys);
      await raw.quit();
      await redis.quit();
      await deleteTablesWithPrefix(dynamo, tablePrefix);
      dynamo.close();
    },
  ];
  async function stop() {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  }
  const started = <T>(resource: T, close: (resource: T) => Promise<unknown>): T => {
    cleanups.push(() => close(resource));
    return resource;
  };

  try {
    const auth = started(await createTestAuth(), (a) => a.close());
    const market = started(await startMarketService(parseMarketEnv({ PORT: '0', LOG_LEVEL: 'silent', ...auth.env, ...stores })), (m) => m.stop());
    const dir = started(await mkdtemp(path.join(os.tmpdir(), `market-${name}-`)), (d) => rm(d, { recursive: true, force: true }));
    const composed = compose([{ name: 'market', url: `${market.url}/graphql`, sdl: printSdl(await buildMarketSchema()) }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    await writeFile(path.join(dir, 'supergraph.graphql'), composed.supergraphSdl);
    const gateway = started(
      await startGateway(
        parseGatewayEnv({ PORT: '0', LOG_LEVEL: 'silent', ...auth.env, ...stores, SUPERGRAPH_PATH: path.join(dir, 'supergraph.graphql'), SUPERGRAPH_WATCH: 'false' }),
      ),
      (g) => g.stop(),
    );
    const gatewayUrl = `${gateway.url}/graphql`;
    const worker = started(
      await startMarketIngest(
        parseMarketIngestEnv({ PORT: '0', LOG_LEVEL: 'silent', ...stores, KAFKA_BROKERS: services.kafkaBrokers, KAFKA_TOPIC_PREFIX: topicPrefix, INGEST_FLUSH_MS: '200' }),
      ),
      (w) => w.stop(),
    );
    const bus = started(createKafkaBus({ brokers: [services.kafkaBrokers], clientId: `${name}-test`, prefix: topicPrefix, logger }), (b) => b.close());

    let seq = Date.now() * 1000;
    /** A sequence number later than any before, as the feed gives each tick of a symbol. */
    const nextSeq = () => seq++;
    /** A trade of 100 at `last`, now, with a spread of 4 cents around it. */
    const tick = (symbol: string, region: 'US' | 'EU' | 'APAC', last: number, extra: Partial<TickPayload> = {}): TickPayload => ({
      symbol,
      region,
      last,
      bid: Math.round((last - 0.02) * 100) / 100,
      ask: Math.round((last + 0.02) * 100) / 100,
      size: 100,
      exchangeTime: new Date().toISOString(),
      seq: nextSeq(),
      marketState: 'OPEN',
      ...extra,
    });
    const publishTicks = (...ticks: TickPayload[]) =>
      bus.publish(
        'market.ticks.v1',
        ticks.map((t) => encodeEvent('market.ticks.v1', t.symbol, t)),
      );

    // Consuming only starts once the group has handed out the partitions.
    await eventually(async () => ((await fetch(`${worker.url}/ready`)).ok ? true : undefined), 30_000, 200);
    // The producer connects on its first send: do that here, not inside a timed test.
    await publishTicks(tick('WMT', 'US', 90));

    return { auth, market, gateway, gatewayUrl, worker, bus, redis, raw, dynamo, keyPrefix, tablePrefix, topicPrefix, nextSeq, tick, publishTicks, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
export type MarketHarness = Awaited<ReturnType<typeof startMarketHarness>>;
