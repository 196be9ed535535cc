import { fileURLToPath } from 'node:url';
import { dropSchema, services, uniqueName } from '@analytica/testing';
import { describeServiceProcess } from '@analytica/testing/service-process';

const schema = uniqueName('payment_main');

describeServiceProcess({
  name: 'payment',
  entry: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: () => ({
    DATABASE_URL: services.databaseUrl,
    DATABASE_SCHEMA: schema,
    KAFKA_BROKERS: services.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
    REDIS_URL: services.redisUrl,
    BANK_FINGERPRINT_SECRET: 'a-test-secret-of-at-least-32-characters',
  }),
  badEnv: { BANK_FINGERPRINT_SECRET: 'short-secret', BANK_API_URL: 'ftp://bank' },
  dependencies: ['postgres'],
  cleanup: () => dropSchema(schema),
});
