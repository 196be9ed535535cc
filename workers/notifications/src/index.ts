import client from 'prom-client';
import { busFromEnv, OutboxMessageSchema, ProcessedEventSchema, runConsumer, startConsumerWithRetries, startOutboxRelay, type Consumer, type EventBus } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { openDatabase, connectionFromEnv } from '@analytica/postgres';
import { createHttpService, lifecycle } from '@analytica/service';
import { deliverEmail } from './delivery.js';
import type { NotificationsEnv } from './environment.js';
import { createMailer } from './mailer.js';
import { migrations } from './migrations.js';
import { EMAIL_SOURCE_TOPICS, requestEmailFor } from './requests.js';
import { unsubscribeRoutes } from './unsubscribe.js';

export { notificationsEnvShape, parseNotificationsEnv, type NotificationsEnv } from './environment.js';
export { unsubscribeUrl } from './preferences.js';

export interface Dependencies {
  /** The embedded runner passes its local event bus; otherwise Kafka is used. It is not closed here. */
  bus?: EventBus;
}

/**
 * Starts the notifications worker: domain events (registrations, payment results, overspent
 * budgets, price alerts) become email requests on `notifications.email.v1`, and each request is
 * rendered and sent over SMTP at most once, unless the user turned that kind of email off.
 */
export async function startNotificationsWorker(env: NotificationsEnv, deps: Dependencies = {}) {
  const logger = createLogger('notifications-worker', env.LOG_LEVEL);
  const resources = lifecycle(logger);
  const db = await resources.open(
    'postgres',
    () =>
      openDatabase({
        ...connectionFromEnv(env),
        entities: [OutboxMessageSchema, ProcessedEventSchema],
        migrations,
        poolMax: 5,
      }),
    (d) => d.close(),
  );
  const bus =
    deps.bus ??
    (await resources.open(
      'kafka',
      () => busFromEnv(env, 'notifications-worker', logger),
      (b) => b.close(),
    ));
  const relay = await resources.open(
    'outbox relay',
    () => startOutboxRelay({ db, bus, logger }),
    (r) => r.stop(),
  );
  const mailer = await resources.open(
    'smtp',
    () => createMailer({ url: env.SMTP_URL, timeoutMs: env.SMTP_TIMEOUT_MS, logger }),
    (m) => m.close(),
  );

  const registry = new client.Registry();
  const emails = new client.Counter({ name: 'emails_total', help: 'Email requests handled, by template and outcome', labelNames: ['template', 'outcome'], registers: [registry] });
  const requests = new client.Counter({ name: 'email_requests_total', help: 'Domain events turned into email requests', labelNames: ['topic'], registers: [registry] });

  // One resource for all consumers: they are independent of each other, and stop together.
  const consumers = await resources.open(
    'consumers',
    (): Consumer[] => [],
    (list) => Promise.all(list.splice(0).map((consumer) => consumer.stop())),
  );
  const settings = { from: env.MAIL_FROM, publicUrl: env.PUBLIC_URL, appUrl: env.APP_URL, unsubscribeSecret: env.UNSUBSCRIBE_SECRET };
  await resources.run('consumers', async () => {
    for (const topic of EMAIL_SOURCE_TOPICS) {
      consumers.push(
        await startConsumerWithRetries(`${topic} consumer`, logger, () =>
          runConsumer({
            bus,
            logger,
            groupId: `notifications.${topic}`,
            topic,
            retryDelaysMs: env.NOTIFICATION_RETRY_DELAYS_MS,
            async handle(event) {
              if (await requestEmailFor(db, event)) {
                requests.inc({ topic });
                relay.poke();
              }
            },
          }),
        ),
      );
    }
    consumers.push(
      await startConsumerWithRetries('email consumer', logger, () =>
        runConsumer({
          bus,
          logger,
          groupId: 'notifications.email',
          topic: 'notifications.email.v1',
          retryDelaysMs: env.NOTIFICATION_RETRY_DELAYS_MS,
          async handle(event) {
            try {
              const outcome = await deliverEmail({ db, mailer, logger, settings }, event);
              emails.inc({ template: event.payload.template, outcome });
            } catch (error) {
              emails.inc({ template: event.payload.template, outcome: 'failed' });
              throw error;
            }
          },
        }),
      ),
    );
  });

  const service = createHttpService({
    name: 'notifications-worker',
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT,
    metricsHost: env.METRICS_HOST,
    logger,
    registry,
    readiness: { postgres: db.ping, kafka: bus.ping, smtp: mailer.ping },
    routes: (app) => unsubscribeRoutes(app, { db, secret: env.UNSUBSCRIBE_SECRET }),
    onStop: resources.closeAll,
  });
  const running = await resources.run('http server', () => service.start());
  return { ...running, db };
}
