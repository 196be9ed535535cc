import { fileURLToPath } from 'node:url';
import { dropSchema, services, uniqueName } from '@analytica/testing';
import { describeServiceProcess } from '@analytica/testing/service-process';

const schema = uniqueName('notifications_main');

describeServiceProcess({
  name: 'notifications-worker',
  entry: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: () => ({
    DATABASE_URL: services.databaseUrl,
    DATABASE_SCHEMA: schema,
    KAFKA_BROKERS: services.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
    SMTP_URL: process.env.TEST_SMTP_URL ?? 'smtp://127.0.0.1:1025',
    UNSUBSCRIBE_SECRET: 'a-test-secret-of-at-least-32-characters',
  }),
  badEnv: { SMTP_URL: 'http://mail', UNSUBSCRIBE_SECRET: 'short-secret' },
  dependencies: ['postgres', 'kafka', 'smtp'],
  metrics: ['emails_total'],
  cleanup: () => dropSchema(schema),
});
