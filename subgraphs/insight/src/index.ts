import { verifierFromEnv } from '@analytica/auth';
import { busFromEnv, OutboxMessageSchema, ProcessedEventSchema, runConsumer, startConsumerWithRetries, startOutboxRelay, type Consumer, type EventBus } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { openDatabase, connectionFromEnv } from '@analytica/postgres';
import { createRedis, type Redis } from '@analytica/redis';
import { createLivePublisher } from '@analytica/redis/live';
import { lifecycle } from '@analytica/service';
import { createSubgraphService } from '@analytica/subgraph';
import { insightContext, type InsightContext } from './context.js';
import type { InsightEnv } from './environment.js';
import { insightsAnnouncer } from './insights/live.js';
import { migrations } from './migrations.js';
import { ReportLineSchema, ReportSchema } from './reports/report.entity.js';
import { buildInsightSchema } from './schema.js';
import { applyDeletedTransaction, applyRecordedTransaction, applyUpdatedTransaction, DELETIONS_GROUP, SPENDING_CONSUMER, UPDATES_GROUP } from './spending/spending.js';
import { ANOMALY_CONSUMER, recordAnomaly } from './anomalies/anomalies.js';
import { BUDGETS_CONSUMER, recordBudget, startForecastDays } from './forecasts/forecasts.js';
import { startDigests } from './digests/digests.js';
import { InsightRecord, InsightSchema } from './insights/insight.entity.js';

export { insightEnvShape, parseInsightEnv, type InsightEnv } from './environment.js';
/** The subgraph's schema, for tests that compose it with others behind a gateway. */
export { buildInsightSchema } from './schema.js';

export interface Dependencies {
  /** The embedded runner passes its local event bus; otherwise Kafka is used. */
  bus?: EventBus;
  /** For live events (new insights); made from REDIS_URL when not passed (and then closed on stop). */
  redis?: Redis;
  /** The clock budget forecasts are made at (tests set the day); the real time when not passed. */
  clock?: () => Date;
}

/**
 * Starts the insight service: it folds recorded, edited and deleted transactions into daily totals as they arrive,
 * and builds reports and rule-based insights from those totals on request.
 */
export async function startInsightService(env: InsightEnv, deps: Dependencies = {}) {
  const logger = createLogger('insight', env.LOG_LEVEL);
  const resources = lifecycle(logger);
  const db = await resources.open(
    'postgres',
    () =>
      openDatabase({
        ...connectionFromEnv(env),
        entities: [ReportSchema, ReportLineSchema, InsightSchema, OutboxMessageSchema, ProcessedEventSchema],
        migrations,
      }),
    (d) => d.close(),
  );
  const bus =
    deps.bus ??
    (await resources.open(
      'kafka',
      () => busFromEnv(env, 'insight', logger),
      (b) => b.close(),
    ));
  const redis =
    deps.redis ??
    (await resources.open(
      'redis',
      () => createRedis(env.REDIS_URL, { name: 'insight-live', onError: (err) => logger.warn({ err }, 'redis connection error') }),
      (r) => r.quit().catch(() => r.disconnect()),
    ));
  const announce = insightsAnnouncer(createLivePublisher(redis, env.REDIS_KEY_PREFIX), logger);
  const clock = deps.clock ?? (() => new Date());
  // Stopped together, not one after another: each waits out its current fetch (up to 5 s), and five
  // in a row would outlast the 20 s a stop may take.
  const consumers: Consumer[] = [];
  await resources.open(
    'consumers',
    async () => consumers,
    (all) => Promise.all(all.map((c) => c.stop())),
  );
  /** Budget forecasts created while applying an event, read after its commit and told live to their owners. */
  const announceCreated = async (ids: string[]) => {
    if (!ids.length) return;
    // Best effort like every live message: the insight is committed and there for the next read.
    const insights = await db
      .fork()
      .find(InsightRecord, { id: { $in: ids } })
      .catch((err: unknown) => void logger.warn({ err }, 'could not read new forecasts to announce them'));
    if (insights) await announce(insights);
  };
  const forecasting = async (apply: (options: { now: Date; created: string[] }) => Promise<unknown>) => {
    const created: string[] = [];
    await apply({ now: clock(), created });
    await announceCreated(created);
  };
  consumers.push(
    await resources.run('spending consumer', () =>
      runConsumer({
        bus,
        logger,
        groupId: SPENDING_CONSUMER,
        topic: 'transactions.recorded.v1',
        handle: async (event) => {
          await forecasting((options) => applyRecordedTransaction(db.fork(), event, options));
        },
      }),
    ),
  );
  // Edits and deletes move the same totals (each transaction's counted lines are kept, so neither
  // doubles nor loses anything, in whatever order the topics deliver).
  consumers.push(
    await resources.run('transaction updates consumer', () =>
      startConsumerWithRetries('transactions.updated.v1 consumer', logger, () =>
        runConsumer({
          bus,
          logger,
          groupId: UPDATES_GROUP,
          topic: 'transactions.updated.v1',
          handle: async (event) => {
            await forecasting((options) => applyUpdatedTransaction(db.fork(), event, options));
          },
        }),
      ),
    ),
  );
  consumers.push(
    await resources.run('transaction deletions consumer', () =>
      startConsumerWithRetries('transactions.deleted.v1 consumer', logger, () =>
        runConsumer({
          bus,
          logger,
          groupId: DELETIONS_GROUP,
          topic: 'transactions.deleted.v1',
          handle: async (event) => {
            await forecasting((options) => applyDeletedTransaction(db.fork(), event, options));
          },
        }),
      ),
    ),
  );
  // The inference worker's anomalies become ANOMALY insights, once each, told live to their owner.
  consumers.push(
    await resources.run('anomaly consumer', () =>
      startConsumerWithRetries('transactions.anomalous.v1 consumer', logger, () =>
        runConsumer({
          bus,
          logger,
          groupId: ANOMALY_CONSUMER,
          topic: 'transactions.anomalous.v1',
          handle: async (event) => {
            const insight = await recordAnomaly(db.fork(), event);
            if (insight) await announce([insight]);
          },
        }),
      ),
    ),
  );
  // Budgets as budget sets them: each one's limit, against which its spending is forecast.
  consumers.push(
    await resources.run('budget consumer', () =>
      startConsumerWithRetries('budget.set.v1 consumer', logger, () =>
        runConsumer({
          bus,
          logger,
          groupId: BUDGETS_CONSUMER,
          topic: 'budget.set.v1',
          handle: async (event) => {
            await announceCreated(await recordBudget(db.fork(), event, clock()));
          },
        }),
      ),
    ),
  );
  const relay = await resources.open(
    'outbox relay',
    () => startOutboxRelay({ db, bus, logger }),
    (r) => r.stop(),
  );
  if (env.FORECAST_DAY_CHECK_MS > 0) {
    await resources.open(
      'forecast days',
      async () => startForecastDays({ db, logger, intervalMs: env.FORECAST_DAY_CHECK_MS, clock, onCreated: announceCreated }),
      (f) => f.stop(),
    );
  }
  if (env.DIGEST_INTERVAL_MS > 0) {
    await resources.open(
      'digests',
      async () => startDigests({ db, logger, intervalMs: env.DIGEST_INTERVAL_MS, clock, onSent: () => relay.poke() }),
      (d) => d.stop(),
    );
  }
  const service = createSubgraphService<InsightContext>({
    name: 'insight',
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT,
    metricsHost: env.METRICS_HOST,
    logger,
    schema: await resources.run('schema', buildInsightSchema),
    verifier: verifierFromEnv(env),
    exposeErrorDetails: env.NODE_ENV === 'development',
    access: env,
    readiness: { postgres: db.ping },
    context: (base) => insightContext(base, db.fork(), announce),
    onStop: resources.closeAll,
  });
  const running = await resources.run('http server', () => service.start());
  return { ...running, db };
}
