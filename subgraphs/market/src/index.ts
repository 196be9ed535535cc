import { verifierFromEnv } from '@analytica/auth';
import { dynamoFromEnv } from '@analytica/dynamo';
import type { EventBus } from '@analytica/events';
import { readReferenceFile } from '@analytica/instruments';
import { createLogger } from '@analytica/logger';
import { createRedis, pingRedis, type Redis } from '@analytica/redis';
import { lifecycle } from '@analytica/service';
import { createSubgraphService } from '@analytica/subgraph';
import { syncAlertIndex } from './alerts/alerts.js';
import type { MarketContext } from './context.js';
import type { MarketEnv } from './environment.js';
import { createCatalogue, instrumentsTable, loadReferenceInstruments, readInstruments } from './instruments/instruments.js';
import { quoteLoader, seedMissingQuotes } from './quotes/quotes.js';
import { buildMarketSchema } from './schema.js';
import { priceAlertsTable } from './store/alerts.js';
import { candlesTable } from './store/candles.js';
import { marketTables } from './store/tables.js';
import { watchlistsTable } from './watchlists/watchlists.js';

// @analytica/market-subgraph: the market service. Its ingest worker shares market data at rest and
// on the wire through the other face, @analytica/market-subgraph/store (store/index.ts).
export { marketEnvShape, parseMarketEnv, type MarketEnv } from './environment.js';
export { buildMarketSchema } from './schema.js';

export interface Dependencies {
  /** A client with its key prefix already set (the embedded runner's, or a test's); not closed here. */
  redis?: Redis;
  /** Accepted from the embedded runner like every service's; ticks and alerts travel through the ingest worker, not here. */
  bus?: EventBus;
}

/** Starts the market service: reference instruments, quotes, candles, movers, watchlists and price alerts. */
export async function startMarketService(env: MarketEnv, deps: Dependencies = {}) {
  const logger = createLogger('market', env.LOG_LEVEL);
  const resources = lifecycle(logger);
  const redis =
    deps.redis ??
    (await resources.open(
      'redis',
      () => createRedis(env.REDIS_URL, { keyPrefix: env.REDIS_KEY_PREFIX, name: 'market', onError: (err) => logger.warn({ err }, 'redis connection error') }),
      (r) => r.quit().catch(() => r.disconnect()),
    ));
  const dynamo = await resources.open(
    'dynamodb',
    () => dynamoFromEnv(env),
    (d) => d.close(),
  );
  const tables = marketTables(env.DYNAMODB_TABLE_PREFIX);

  const instruments = await resources.run('reference data', async () => {
    await dynamo.ensureTable(instrumentsTable(tables.instruments));
    await dynamo.ensureTable(watchlistsTable(tables.watchlists));
    await dynamo.ensureTable(candlesTable(tables.candles));
    await dynamo.ensureTable(priceAlertsTable(tables.priceAlerts));
    const reference = await readReferenceFile();
    const outcome = await loadReferenceInstruments(dynamo, tables.instruments, reference);
    const catalogue = createCatalogue(await readInstruments(dynamo, tables.instruments));
    const seeded = await seedMissingQuotes(redis, catalogue.all);
    const indexedAlerts = await syncAlertIndex({ dynamo, table: tables.priceAlerts, redis });
    logger.info({ version: reference.version, outcome, instruments: catalogue.all.length, seededQuotes: seeded, indexedAlerts }, 'reference data ready');
    return catalogue;
  });

  const watchlists = { dynamo, table: tables.watchlists };
  const candles = { dynamo, table: tables.candles };
  const alerts = { dynamo, table: tables.priceAlerts, redis };
  const service = createSubgraphService<MarketContext>({
    name: 'market',
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT,
    metricsHost: env.METRICS_HOST,
    logger,
    schema: await resources.run('schema', buildMarketSchema),
    verifier: verifierFromEnv(env),
    exposeErrorDetails: env.NODE_ENV === 'development',
    access: env,
    readiness: { redis: () => pingRedis(redis), dynamodb: dynamo.ping },
    context: (base) => ({
      ...base,
      catalogue: instruments,
      watchlists,
      candles,
      alerts,
      redis,
      quotes: quoteLoader({ redis, catalogue: instruments, candles, timeoutMs: env.QUOTE_READ_TIMEOUT_MS, log: base.log }),
    }),
    onStop: resources.closeAll,
  });
  return resources.run('http server', () => service.start());
}
