import { verifierFromEnv } from '@analytica/auth';
import { busFromEnv, OutboxMessageSchema, ProcessedEventSchema, startOutboxRelay, type EventBus } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { openDatabase } from '@analytica/postgres';
import { createSubgraphService } from '@analytica/subgraph';
import { BankAccountSchema } from './bank-accounts.js';
import type { PaymentEnv } from './environment.js';
import { migrations } from './migrations.js';
import { PaymentSchema, PaymentStatusChangeSchema } from './payments.js';
import { buildPaymentSchema, paymentContext, type PaymentContext } from './schema.js';

export { parsePaymentEnv, paymentEnvShape, type PaymentEnv } from './environment.js';

export interface Dependencies {
  /** The embedded runner passes its local event bus; otherwise Kafka is used. */
  bus?: EventBus;
}

/** Starts the payment service: linked bank accounts and payments, with their events sent through the outbox. */
export async function startPaymentService(env: PaymentEnv, deps: Dependencies = {}) {
  const logger = createLogger('payment', env.LOG_LEVEL);
  const db = await openDatabase({
    url: env.DATABASE_URL,
    schema: env.DATABASE_SCHEMA,
    entities: [BankAccountSchema, PaymentSchema, PaymentStatusChangeSchema, OutboxMessageSchema, ProcessedEventSchema],
    migrations,
  });
  const bus = busFromEnv(env, 'payment', logger, deps.bus);
  const relay = startOutboxRelay({ db, bus, logger });
  const service = createSubgraphService<PaymentContext>({
    name: 'payment',
    host: env.HOST,
    port: env.PORT,
    logger,
    schema: await buildPaymentSchema(),
    verifier: verifierFromEnv(env),
    exposeErrorDetails: env.NODE_ENV === 'development',
    readiness: { postgres: db.ping },
    context: (base) => paymentContext(base, db.fork(), env.BANK_FINGERPRINT_SECRET, relay.poke),
    onStop: async () => {
      await relay.stop();
      if (!deps.bus) await bus.close();
      await db.close();
    },
  });
  const running = await service.start();
  return { ...running, db };
}
