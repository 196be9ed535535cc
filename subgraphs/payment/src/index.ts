import { verifierFromEnv } from '@analytica/auth';
import { busFromEnv, startConsumerWithRetries, startOutboxRelay, type EventBus } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { openDatabase, connectionFromEnv } from '@analytica/postgres';
import { createRedis, type Redis } from '@analytica/redis';
import { lifecycle } from '@analytica/service';
import { createSubgraphService } from '@analytica/subgraph';
import { createBankClient, type BankClient } from './bank-client.js';
import { paymentContext, type PaymentContext } from './context.js';
import { startDeadLetterIntake } from './dead-letters/dead-letters.js';
import { migrations, paymentEntities, publishPaymentStatus } from './domain.js';
import type { PaymentEnv } from './environment.js';
import type { PaymentSettings } from './payments/payments.js';
import { buildPaymentSchema } from './schema.js';

export { parsePaymentEnv, paymentEnvShape, type PaymentEnv } from './environment.js';

export interface Dependencies {
  /** The embedded runner passes its local event bus; otherwise Kafka is used. It is not closed here. */
  bus?: EventBus;
  /** Publishes live payment status; made from REDIS_URL when not passed (and then closed on stop). */
  redis?: Redis;
  /** The bank provider; made from BANK_API_URL when not passed. */
  bank?: BankClient;
}

/**
 * Starts the payment service: bank connections and linked accounts, payments with their risk
 * checks and state machine, events through the outbox, and the payment dead letters for admins.
 */
export async function startPaymentService(env: PaymentEnv, deps: Dependencies = {}) {
  const logger = createLogger('payment', env.LOG_LEVEL);
  const resources = lifecycle(logger);
  const db = await resources.open(
    'postgres',
    () =>
      openDatabase({
        ...connectionFromEnv(env),
        entities: paymentEntities,
        migrations,
      }),
    (d) => d.close(),
  );
  const bus =
    deps.bus ??
    (await resources.open(
      'kafka',
      () => busFromEnv(env, 'payment', logger),
      (b) => b.close(),
    ));
  const redis =
    deps.redis ??
    (await resources.open(
      'redis',
      () => createRedis(env.REDIS_URL, { name: 'payment-status', onError: (err) => logger.warn({ err }, 'redis connection error') }),
      (r) => r.quit().catch(() => r.disconnect()),
    ));
  const bank = deps.bank ?? createBankClient({ baseUrl: env.BANK_API_URL, timeoutMs: env.BANK_TIMEOUT_MS });
  const relay = await resources.open(
    'outbox relay',
    () => startOutboxRelay({ db, bus, logger }),
    (r) => r.stop(),
  );
  await resources.open(
    'dead-letter intake',
    () => startConsumerWithRetries('dead-letter intake', logger, () => startDeadLetterIntake({ db, bus, logger })),
    (intake) => intake.stop(),
  );
  const settings: PaymentSettings = {
    secret: env.BANK_FINGERPRINT_SECRET,
    codeTtlSeconds: env.ONE_TIME_CODE_TTL_SECONDS,
    limits: {
      maxAmountMinor: env.PAYMENT_MAX_AMOUNT_MINOR,
      dailyLimitMinor: env.PAYMENT_DAILY_LIMIT_MINOR,
      velocityMax: env.PAYMENT_VELOCITY_MAX,
      velocityWindowSeconds: env.PAYMENT_VELOCITY_WINDOW_SECONDS,
      reviewThresholdMinor: env.PAYMENT_REVIEW_THRESHOLD_MINOR,
    },
  };
  const services = {
    bank,
    settings,
    pokeOutbox: relay.poke,
    publishStatus: (payment: Parameters<PaymentContext['publishStatus']>[0]) =>
      publishPaymentStatus(redis, env.REDIS_KEY_PREFIX, payment, (err) => logger.warn({ err, paymentId: payment.id }, 'could not publish the payment status')),
  };
  const service = createSubgraphService<PaymentContext>({
    name: 'payment',
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT,
    metricsHost: env.METRICS_HOST,
    logger,
    schema: await resources.run('schema', buildPaymentSchema),
    verifier: verifierFromEnv(env),
    exposeErrorDetails: env.NODE_ENV === 'development',
    access: env,
    readiness: { postgres: db.ping },
    context: (base) => paymentContext(base, db.fork(), services),
    onStop: resources.closeAll,
  });
  const running = await resources.run('http server', () => service.start());
  return { ...running, db };
}
