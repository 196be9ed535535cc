import { busFromEnv, OutboxMessageSchema, ProcessedEventSchema, startOutboxRelay, type EventBus } from '@analytica/events';
import { verifierFromEnv } from '@analytica/auth';
import { createLogger } from '@analytica/logger';
import { openDatabase, connectionFromEnv } from '@analytica/postgres';
import { objectsConfigured, objectStoreFromEnv } from '@analytica/objects';
import { createRedis, type Redis } from '@analytica/redis';
import { createLivePublisher } from '@analytica/redis/live';
import { lifecycle } from '@analytica/service';
import { createSubgraphService } from '@analytica/subgraph';
import { AccountSchema } from './accounts/account.entity.js';
import { BudgetSchema } from './budgets/budget.entity.js';
import { CategorySchema } from './categories/category.entity.js';
import type { BudgetContext } from './context.js';
import type { BudgetEnv } from './environment.js';
import { loadExchangeRateFile } from './exchange-rates/exchange-rates.js';
import { budgetLiveEvents } from './live/live.js';
import { createLoaders } from './loaders.js';
import { migrations } from './migrations.js';
import { startPaymentConsumer } from './payment-consumer/payment-consumer.js';
import { RuleSchema } from './rules/rule.entity.js';
import { ScheduleSchema } from './schedules/schedule.entity.js';
import { startSchedulePoster } from './schedules/schedules.js';
import { startSuggestionConsumer } from './suggestions/suggestions.js';
import { buildBudgetSchema } from './schema.js';
import { SplitSchema, TransactionSchema } from './transactions/transaction.entity.js';
import { uploadRoutes } from './uploads/routes.js';
import { statementUploads } from './uploads/uploads.js';

export { budgetEnvShape, parseBudgetEnv, type BudgetEnv } from './environment.js';
export { buildBudgetSchema } from './schema.js';

export interface Dependencies {
  /** The embedded runner passes its local event bus; otherwise Kafka is used. It is not closed here. */
  bus?: EventBus;
  /** For token revocation checks and live events; made from REDIS_URL when not passed (and then closed on stop). */
  redis?: Redis;
  /** Sees every SQL statement the service runs; tests count statements with it. */
  onQuery?: (sql: string) => void;
}

/** Starts the budget service: accounts, categories, transactions, budgets, schedules, rules and imports of each user. */
export async function startBudgetService(env: BudgetEnv, deps: Dependencies = {}) {
  const logger = createLogger('budget', env.LOG_LEVEL);
  const resources = lifecycle(logger);
  const db = await resources.open(
    'postgres',
    () =>
      openDatabase({
        ...connectionFromEnv(env),
        entities: [AccountSchema, CategorySchema, TransactionSchema, SplitSchema, BudgetSchema, RuleSchema, ScheduleSchema, OutboxMessageSchema, ProcessedEventSchema],
        migrations,
        onQuery: deps.onQuery,
      }),
    (d) => d.close(),
  );
  const ratesFile = env.EXCHANGE_RATES_FILE;
  if (ratesFile) {
    await resources.run('exchange rates', async () => {
      const loaded = await loadExchangeRateFile(db.fork(), ratesFile);
      logger.info({ file: ratesFile, rates: loaded }, 'exchange rates loaded');
    });
  }
  const bus =
    deps.bus ??
    (await resources.open(
      'kafka',
      () => busFromEnv(env, 'budget', logger),
      (b) => b.close(),
    ));
  // Live events (subscriptions through the gateway) follow the outbox: see live/live.ts.
  const redis =
    deps.redis ??
    (await resources.open(
      'redis',
      () => createRedis(env.REDIS_URL, { name: 'budget-live', onError: (err) => logger.warn({ err }, 'redis connection error') }),
      (r) => r.quit().catch(() => r.disconnect()),
    ));
  const relay = await resources.open(
    'outbox relay',
    () => startOutboxRelay({ db, bus, logger, onRelayed: budgetLiveEvents(createLivePublisher(redis, env.REDIS_KEY_PREFIX)) }),
    (r) => r.stop(),
  );
  // Succeeded payments become the outgoing transaction, once each.
  await resources.open(
    'payment consumer',
    () => startPaymentConsumer({ db, bus, logger, onBooked: () => relay.poke() }),
    (c) => c.stop(),
  );
  // The inference worker's category suggestions, stored (or applied, where the user opted in) once each.
  await resources.open(
    'suggestion consumer',
    () => startSuggestionConsumer({ db, bus, logger, onApplied: () => relay.poke() }),
    (c) => c.stop(),
  );
  if (env.SCHEDULE_INTERVAL_MS > 0) {
    await resources.open(
      'schedule poster',
      () => startSchedulePoster({ db, logger, intervalMs: env.SCHEDULE_INTERVAL_MS, onPosted: () => relay.poke() }),
      (p) => p.stop(),
    );
  }
  // Statement uploads need an object store; without one, importTransactions (the file in the request) still works.
  const uploads = objectsConfigured(env)
    ? await resources.open(
        'statement uploads',
        async () => {
          const objects = objectStoreFromEnv(env);
          const store = statementUploads({
            db,
            logger,
            settings: {
              objects,
              publicApiUrl: env.PUBLIC_API_URL,
              maxBytes: env.STATEMENT_UPLOAD_MAX_BYTES,
              ttlMs: env.STATEMENT_UPLOAD_TTL_SECONDS * 1000,
              retentionMs: env.STATEMENT_UPLOAD_RETENTION_HOURS * 3_600_000,
            },
            onImported: () => relay.poke(),
          });
          return store;
        },
        (u) => u.stop(),
      )
    : null;
  const service = createSubgraphService<BudgetContext>({
    name: 'budget',
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT,
    metricsHost: env.METRICS_HOST,
    logger,
    schema: await resources.run('schema', buildBudgetSchema),
    verifier: verifierFromEnv(env, { redis: deps.redis }),
    exposeErrorDetails: env.NODE_ENV === 'development',
    access: env,
    readiness: { postgres: db.ping },
    context: (base) => {
      const em = db.fork();
      return { ...base, em, loaders: createLoaders(em), eventsRecorded: () => relay.poke(), uploads };
    },
    routes: uploads ? (app) => uploadRoutes(app, uploads, logger) : undefined,
    onStop: resources.closeAll,
  });
  const running = await resources.run('http server', () => service.start());
  return { ...running, db, uploads };
}
