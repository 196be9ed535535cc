import { busFromEnv, OutboxMessageSchema, ProcessedEventSchema, startOutboxRelay, type EventBus } from '@analytica/events';
import { verifierFromEnv } from '@analytica/auth';
import { createLogger } from '@analytica/logger';
import { openDatabase } from '@analytica/postgres';
import { createSubgraphService } from '@analytica/subgraph';
import { AccountSchema } from './accounts.js';
import { BudgetSchema } from './budgets.js';
import { CategorySchema } from './categories.js';
import type { BudgetEnv } from './environment.js';
import { createLoaders } from './loaders.js';
import { migrations } from './migrations.js';
import { buildBudgetSchema } from './schema.js';
import type { BudgetContext } from './schema-user.js';
import { TransactionSchema } from './transactions.js';

export { budgetEnvShape, parseBudgetEnv, type BudgetEnv } from './environment.js';

export interface Dependencies {
  /** The embedded runner passes its local event bus; otherwise Kafka is used. It is not closed here. */
  bus?: EventBus;
  /** Sees every SQL statement the service runs; tests count statements with it. */
  onQuery?: (sql: string) => void;
}

/** Starts the budget service: accounts, categories, transactions and budgets of each user. */
export async function startBudgetService(env: BudgetEnv, deps: Dependencies = {}) {
  const logger = createLogger('budget', env.LOG_LEVEL);
  const db = await openDatabase({
    url: env.DATABASE_URL,
    schema: env.DATABASE_SCHEMA,
    entities: [AccountSchema, CategorySchema, TransactionSchema, BudgetSchema, OutboxMessageSchema, ProcessedEventSchema],
    migrations,
    onQuery: deps.onQuery,
  });
  const bus = busFromEnv(env, 'budget', logger, deps.bus);
  const relay = startOutboxRelay({ db, bus, logger });
  const service = createSubgraphService<BudgetContext>({
    name: 'budget',
    host: env.HOST,
    port: env.PORT,
    logger,
    schema: await buildBudgetSchema(),
    verifier: verifierFromEnv(env),
    exposeErrorDetails: env.NODE_ENV === 'development',
    readiness: { postgres: db.ping },
    context: (base) => {
      const em = db.fork();
      return { ...base, em, loaders: createLoaders(em), eventsRecorded: () => relay.poke() };
    },
    onStop: async () => {
      await relay.stop();
      if (!deps.bus) await bus.close();
      await db.close();
    },
  });
  const running = await service.start();
  return { ...running, db };
}
