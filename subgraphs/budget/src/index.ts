import { startPaymentConsumer } from './payment-consumer.js';
import { busFromEnv, OutboxMessageSchema, ProcessedEventSchema, startOutboxRelay, type EventBus } from '@analytica/events';
import { verifierFromEnv } from '@analytica/auth';
import { createLogger } from '@analytica/logger';
import { openDatabase } from '@analytica/postgres';
import type { Redis } from '@analytica/redis';
import { createSubgraphService } from '@analytica/subgraph';
import { AccountSchema } from './accounts.js';
import { BudgetSchema } from './budgets.js';
import { CategorySchema } from './categories.js';
import type { BudgetEnv } from './environment.js';
import { loadExchangeRateFile } from './exchange-rates.js';
import { createLoaders } from './loaders.js';
import { migrations } from './migrations.js';
import { RuleSchema } from './rules.js';
import { ScheduleSchema, startSchedulePoster } from './schedules.js';
import { buildBudgetSchema } from './schema.js';
import type { BudgetContext } from './schema-user.js';
import { SplitSchema, TransactionSchema } from './transactions.js';

export { budgetEnvShape, parseBudgetEnv, type BudgetEnv } from './environment.js';
export { buildBudgetSchema } from './schema.js';

export interface Dependencies {
  /** The embedded runner passes its local event bus; otherwise Kafka is used. It is not closed here. */
  bus?: EventBus;
  /** For token revocation checks; made from REDIS_URL when not passed (and then closed on stop). */
  redis?: Redis;
  /** Sees every SQL statement the service runs; tests count statements with it. */
  onQuery?: (sql: string) => void;
}

/** Starts the budget service: accounts, categories, transactions, budgets, schedules, rules and imports of each user. */
export async function startBudgetService(env: BudgetEnv, deps: Dependencies = {}) {
  const logger = createLogger('budget', env.LOG_LEVEL);
  const db = await openDatabase({
    url: env.DATABASE_URL,
    schema: env.DATABASE_SCHEMA,
    entities: [AccountSchema, CategorySchema, TransactionSchema, SplitSchema, BudgetSchema, RuleSchema, ScheduleSchema, OutboxMessageSchema, ProcessedEventSchema],
    migrations,
    onQuery: deps.onQuery,
  });
  try {
    if (env.EXCHANGE_RATES_FILE) {
      const loaded = await loadExchangeRateFile(db.fork(), env.EXCHANGE_RATES_FILE);
      logger.info({ file: env.EXCHANGE_RATES_FILE, rates: loaded }, 'exchange rates loaded');
    }
  } catch (error) {
    await db.close();
    throw error;
  }
  const bus = busFromEnv(env, 'budget', logger, deps.bus);
  const relay = startOutboxRelay({ db, bus, logger });
  // Succeeded payments become the outgoing transaction, once each.
  const payments = await startPaymentConsumer({ db, bus, logger, onBooked: () => relay.poke() });
  const poster = env.SCHEDULE_INTERVAL_MS > 0 ? startSchedulePoster({ db, logger, intervalMs: env.SCHEDULE_INTERVAL_MS, onPosted: () => relay.poke() }) : undefined;
  const service = createSubgraphService<BudgetContext>({
    name: 'budget',
    host: env.HOST,
    port: env.PORT,
    logger,
    schema: await buildBudgetSchema(),
    verifier: verifierFromEnv(env, { redis: deps.redis }),
    exposeErrorDetails: env.NODE_ENV === 'development',
    readiness: { postgres: db.ping },
    context: (base) => {
      const em = db.fork();
      return { ...base, em, loaders: createLoaders(em), eventsRecorded: () => relay.poke() };
    },
    onStop: async () => {
      await payments.stop();
      await poster?.stop();
      await relay.stop();
      if (!deps.bus) await bus.close();
      await db.close();
    },
  });
  const running = await service.start();
  return { ...running, db };
}
