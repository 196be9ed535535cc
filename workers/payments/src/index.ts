import client from 'prom-client';
import { busFromEnv, runConsumer, startConsumerWithRetries, startOutboxRelay, type EventBus } from '@analytica/events';
import { createLogger, type Logger } from '@analytica/logger';
import { openDatabase, type Database, connectionFromEnv } from '@analytica/postgres';
import { createRedis, pingRedis, type Redis } from '@analytica/redis';
import { createHttpService, lifecycle } from '@analytica/service';
import { createBankClient, migrations, paymentEntities, publishPaymentStatus, type BankClient, type PaymentRecord } from '@analytica/payment-subgraph/domain';
import type { CrashPoint, PaymentsWorkerEnv } from './environment.js';
import { processPayment, reconcilePayment, type ProcessingDeps, type ProcessingResult } from './processing.js';
import { startReconciler } from './reconciler.js';

export { CRASH_POINTS, parsePaymentsWorkerEnv, paymentsWorkerEnvShape, type CrashPoint, type PaymentsWorkerEnv } from './environment.js';
export { processPayment, reconcilePayment } from './processing.js';

export interface Dependencies {
  /** The embedded runner passes its local event bus; otherwise Kafka is used. It is not closed here. */
  bus?: EventBus;
  /** Publishes live payment status; made from REDIS_URL when not passed (and then closed on stop). */
  redis?: Redis;
  /** The bank provider; made from BANK_API_URL when not passed. */
  bank?: BankClient;
}

/**
 * The payment service runs the schema's migrations; a worker starting at the same moment may lose
 * the race for a table and simply tries again, by then finding them applied.
 */
async function openPaymentDatabase(env: PaymentsWorkerEnv, logger: Logger): Promise<Database> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await openDatabase({
        ...connectionFromEnv(env),
        entities: paymentEntities,
        migrations,
        poolMax: 5,
      });
    } catch (error) {
      if (attempt >= 5) throw error;
      logger.warn({ err: error, attempt }, 'could not open the payment schema yet; trying again');
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

/**
 * PAYMENTS_CRASH_AT (tests only; refused in production): SIGKILL this process, with no clean-up at
 * all, the first time a payment reaches `point`, as a crash or an OOM kill would at that moment.
 */
function crashAt(point: CrashPoint, logger: Logger) {
  logger.warn({ point }, 'PAYMENTS_CRASH_AT is set: this worker will kill itself at that step of the first payment');
  return (reached: CrashPoint) => {
    if (reached !== point) return;
    logger.warn({ point }, 'PAYMENTS_CRASH_AT reached: SIGKILL');
    logger.flush?.();
    process.kill(process.pid, 'SIGKILL');
  };
}

/**
 * Starts the payments worker: it consumes payments.requested.v1, sends each payment to the bank
 * once (the payment id is the idempotency key), settles it, and reconciles payments left in
 * PROCESSING. Status changes go out through the payment schema's outbox and to Redis.
 */
export async function startPaymentsWorker(env: PaymentsWorkerEnv, deps: Dependencies = {}) {
  const logger = createLogger('payments-worker', env.LOG_LEVEL);
  const resources = lifecycle(logger);
  const db = await resources.open(
    'postgres',
    () => openPaymentDatabase(env, logger),
    (d) => d.close(),
  );
  const bus =
    deps.bus ??
    (await resources.open(
      'kafka',
      () => busFromEnv(env, 'payments-worker', logger),
      (b) => b.close(),
    ));
  const redis =
    deps.redis ??
    (await resources.open(
      'redis',
      () => createRedis(env.REDIS_URL, { name: 'payments-worker', onError: (err) => logger.warn({ err }, 'redis connection error') }),
      (r) => r.quit().catch(() => r.disconnect()),
    ));
  const bank = deps.bank ?? createBankClient({ baseUrl: env.BANK_API_URL, timeoutMs: env.BANK_TIMEOUT_MS });
  // The worker's status events sit in the same outbox as the service's; both relays may publish it.
  const relay = await resources.open(
    'outbox relay',
    () => startOutboxRelay({ db, bus, logger }),
    (r) => r.stop(),
  );

  const registry = new client.Registry();
  const settled = new client.Counter({
    name: 'payments_settled_total',
    help: 'Payments ended by this worker, by status and path',
    labelNames: ['status', 'path'],
    registers: [registry],
  });
  const attempts = new client.Counter({ name: 'payments_processing_attempts_total', help: 'Processing attempts by outcome', labelNames: ['outcome'], registers: [registry] });

  const processing: ProcessingDeps = {
    db,
    bank,
    logger,
    ...(env.PAYMENTS_CRASH_AT ? { step: crashAt(env.PAYMENTS_CRASH_AT, logger) } : {}),
    async onChange(payment: PaymentRecord) {
      relay.poke();
      await publishPaymentStatus(redis, env.REDIS_KEY_PREFIX, payment, (err) => logger.warn({ err, paymentId: payment.id }, 'could not publish the payment status'));
    },
  };
  const count = (path: string) => (result: ProcessingResult) => {
    if (result !== 'skipped') settled.inc({ status: result, path });
  };

  await resources.open(
    'payments consumer',
    () =>
      startConsumerWithRetries('payments consumer', logger, () =>
        runConsumer({
          bus,
          logger,
          groupId: env.PAYMENTS_GROUP_ID,
          topic: 'payments.requested.v1',
          retryDelaysMs: env.PAYMENT_RETRY_DELAYS_MS,
          async handle(event) {
            try {
              const result = await processPayment(processing, event.payload.paymentId);
              count('consumer')(result);
              attempts.inc({ outcome: result });
              // One line per payment handled, under the id of the request that made it (the event carries it).
              logger.info({ paymentId: event.payload.paymentId, eventId: event.id, result }, 'payment processed');
            } catch (error) {
              attempts.inc({ outcome: 'error' });
              logger.warn({ paymentId: event.payload.paymentId, eventId: event.id, err: error }, 'payment attempt failed');
              throw error;
            }
          },
        }),
      ),
    (consumer) => consumer.stop(),
  );
  await resources.open(
    'reconciler',
    () =>
      startReconciler({
        db,
        logger,
        intervalMs: env.RECONCILE_INTERVAL_MS,
        afterMs: env.RECONCILE_AFTER_MS,
        reconcile: (id) => reconcilePayment(processing, id),
        onReconciled: count('reconciler'),
        onChange: processing.onChange,
      }),
    (reconciler) => reconciler.stop(),
  );

  const service = createHttpService({
    name: 'payments-worker',
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT,
    metricsHost: env.METRICS_HOST,
    logger,
    registry,
    readiness: { postgres: db.ping, kafka: bus.ping, redis: () => pingRedis(redis) },
    onStop: resources.closeAll,
  });
  const running = await resources.run('http server', () => service.start());
  return { ...running, db };
}
