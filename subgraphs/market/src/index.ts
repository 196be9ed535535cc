import { verifierFromEnv } from '@analytica/auth';
import { createDynamo } from '@analytica/dynamo';
import type { EventBus } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { createRedis, pingRedis, type Redis } from '@analytica/redis';
import { createSubgraphService } from '@analytica/subgraph';
import type { MarketEnv } from './environment.js';
import { createCatalogue, instrumentsTable, loadReferenceInstruments, readInstruments, readReferenceFile } from './instruments.js';
import { seedMissingQuotes } from './quotes.js';
import { buildMarketSchema, quoteLoader, type MarketContext } from './schema.js';
import { watchlistsTable } from './watchlists.js';

export { marketEnvShape, parseMarketEnv, type MarketEnv } from './environment.js';
export { readReferenceFile, REGIONS, type Instrument, type Region } from './instruments.js';
export { quoteKey, type Quote } from './quotes.js';

export interface Dependencies {
  /** A client with its key prefix already set (the embedded runner's, or a test's); not closed here. */
  redis?: Redis;
  /** Accepted from the embedded runner for the tick feed of a later issue; nothing is published or consumed yet. */
  bus?: EventBus;
}

/** Starts the market service: reference instruments, latest quotes and watchlists. */
export async function startMarketService(env: MarketEnv, deps: Dependencies = {}) {
  const logger = createLogger('market', env.LOG_LEVEL);
  const redis =
    deps.redis ??
    createRedis(env.REDIS_URL, { keyPrefix: env.REDIS_KEY_PREFIX, name: 'market', onError: (err) => logger.warn({ err }, 'redis connection error') });
  const dynamo = createDynamo({ endpoint: env.DYNAMODB_ENDPOINT, region: env.DYNAMODB_REGION });
  const closeClients = async () => {
    dynamo.close();
    if (!deps.redis) await redis.quit().catch(() => redis.disconnect());
  };
  const tables = {
    instruments: `${env.DYNAMODB_TABLE_PREFIX}instruments`,
    watchlists: `${env.DYNAMODB_TABLE_PREFIX}watchlists`,
  };

  let catalogue;
  try {
    await dynamo.ensureTable(instrumentsTable(tables.instruments));
    await dynamo.ensureTable(watchlistsTable(tables.watchlists));
    const reference = await readReferenceFile();
    const outcome = await loadReferenceInstruments(dynamo, tables.instruments, reference);
    catalogue = createCatalogue(await readInstruments(dynamo, tables.instruments));
    const seeded = await seedMissingQuotes(redis, catalogue.all);
    logger.info({ version: reference.version, outcome, instruments: catalogue.all.length, seededQuotes: seeded }, 'reference data ready');
  } catch (error) {
    await closeClients();
    throw error;
  }

  const instruments = catalogue;
  const watchlists = { dynamo, table: tables.watchlists };
  const service = createSubgraphService<MarketContext>({
    name: 'market',
    host: env.HOST,
    port: env.PORT,
    logger,
    schema: await buildMarketSchema(),
    verifier: verifierFromEnv(env),
    exposeErrorDetails: env.NODE_ENV === 'development',
    readiness: { redis: () => pingRedis(redis), dynamodb: dynamo.ping },
    context: (base) => ({ ...base, catalogue: instruments, watchlists, quotes: quoteLoader(redis, instruments) }),
    onStop: closeClients,
  });
  return service.start();
}
