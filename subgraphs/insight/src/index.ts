import { verifierFromEnv } from '@analytica/auth';
import { busFromEnv, OutboxMessageSchema, ProcessedEventSchema, runConsumer, type EventBus } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { openDatabase } from '@analytica/postgres';
import { createSubgraphService } from '@analytica/subgraph';
import type { InsightEnv } from './environment.js';
import { InsightSchema } from './insights.js';
import { migrations } from './migrations.js';
import { ReportLineSchema, ReportSchema } from './reports.js';
import { buildInsightSchema, insightContext, type InsightContext } from './schema.js';
import { applyRecordedTransaction, SPENDING_CONSUMER } from './spending.js';

export { insightEnvShape, parseInsightEnv, type InsightEnv } from './environment.js';

export interface Dependencies {
  /** The embedded runner passes its local event bus; otherwise Kafka is used. */
  bus?: EventBus;
}

/**
 * Starts the insight service: it folds recorded transactions into daily totals as they arrive,
 * and builds reports and rule-based insights from those totals on request.
 */
export async function startInsightService(env: InsightEnv, deps: Dependencies = {}) {
  const logger = createLogger('insight', env.LOG_LEVEL);
  const db = await openDatabase({
    url: env.DATABASE_URL,
    schema: env.DATABASE_SCHEMA,
    entities: [ReportSchema, ReportLineSchema, InsightSchema, OutboxMessageSchema, ProcessedEventSchema],
    migrations,
  });
  const bus = busFromEnv(env, 'insight', logger, deps.bus);
  let consumer: Awaited<ReturnType<typeof runConsumer>> | undefined;
  try {
    consumer = await runConsumer({
      bus,
      logger,
      groupId: SPENDING_CONSUMER,
      topic: 'transactions.recorded.v1',
      handle: async (event) => {
        await applyRecordedTransaction(db.fork(), event);
      },
    });
  } catch (error) {
    if (!deps.bus) await bus.close();
    await db.close();
    throw error;
  }
  const service = createSubgraphService<InsightContext>({
    name: 'insight',
    host: env.HOST,
    port: env.PORT,
    logger,
    schema: await buildInsightSchema(),
    verifier: verifierFromEnv(env),
    exposeErrorDetails: env.NODE_ENV === 'development',
    readiness: { postgres: db.ping },
    context: (base) => insightContext(base, db.fork()),
    onStop: async () => {
      await consumer?.stop();
      if (!deps.bus) await bus.close();
      await db.close();
    },
  });
  const running = await service.start();
  return { ...running, db };
}
