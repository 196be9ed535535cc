import { verifierFromEnv } from '@analytica/auth';
import { busFromEnv, OutboxMessageSchema, ProcessedEventSchema, runConsumer, startConsumerWithRetries, type EventBus } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { openDatabase, connectionFromEnv } from '@analytica/postgres';
import { createRedis, type Redis } from '@analytica/redis';
import { createLivePublisher } from '@analytica/redis/live';
import { lifecycle } from '@analytica/service';
import { createSubgraphService } from '@analytica/subgraph';
import { insightContext, type InsightContext } from './context.js';
import type { InsightEnv } from './environment.js';
import { InsightSchema } from './insights/insight.entity.js';
import { insightsAnnouncer } from './insights/live.js';
import { migrations } from './migrations.js';
import { ReportLineSchema, ReportSchema } from './reports/report.entity.js';
import { buildInsightSchema } from './schema.js';
import { applyDeletedTransaction, applyRecordedTransaction, applyUpdatedTransaction, DELETIONS_GROUP, SPENDING_CONSUMER, UPDATES_GROUP } from './spending/spending.js';
import { ANOMALY_CONSUMER, recordAnomaly } from './anomalies/anomalies.js';

export { insightEnvShape, parseInsightEnv, type InsightEnv } from './environment.js';
/** The subgraph's schema, for tests that compose it with others behind a gateway. */
export { buildInsightSchema } from './schema.js';

export interface Dependencies {
  /** The embedded runner passes its local event bus; otherwise Kafka is used. */
  bus?: EventBus;
  /** For live events (new insights); made from REDIS_URL when not passed (and then closed on stop). */
  redis?: Redis;
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
  await resources.open(
    'spending consumer',
    () =>
      runConsumer({
        bus,
        logger,
        groupId: SPENDING_CONSUMER,
        topic: 'transactions.recorded.v1',
        handle: async (event) => {
          await applyRecordedTransaction(db.fork(), event);
        },
      }),
    (c) => c.stop(),
  );
  // Edits and deletes move the same totals (each transaction's counted lines are kept, so neither
  // doubles nor loses anything, in whatever order the topics deliver).
  await resources.open(
    'transaction updates consumer',
    () =>
      startConsumerWithRetries('transactions.updated.v1 consumer', logger, () =>
        runConsumer({
          bus,
          logger,
          groupId: UPDATES_GROUP,
          topic: 'transactions.updated.v1',
          handle: async (event) => {
            await applyUpdatedTransaction(db.fork(), event);
          },
        }),
      ),
    (c) => c.stop(),
  );
  await resources.open(
    'transaction deletions consumer',
    () =>
      startConsumerWithRetries('transactions.deleted.v1 consumer', logger, () =>
        runConsumer({
          bus,
          logger,
          groupId: DELETIONS_GROUP,
          topic: 'transactions.deleted.v1',
          handle: async (event) => {
            await applyDeletedTransaction(db.fork(), event);
          },
        }),
      ),
    (c) => c.stop(),
  );
  const redis =
    deps.redis ??
    (await resources.open(
      'redis',
      () => createRedis(env.REDIS_URL, { name: 'insight-live', onError: (err) => logger.warn({ err }, 'redis connection error') }),
      (r) => r.quit().catch(() => r.disconnect()),
    ));
  const announce = insightsAnnouncer(createLivePublisher(redis, env.REDIS_KEY_PREFIX), logger);
  // The inference worker's anomalies become ANOMALY insights, once each, told live to their owner.
  await resources.open(
    'anomaly consumer',
    () =>
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
    (c) => c.stop(),
  );
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
