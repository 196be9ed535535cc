import { fileURLToPath } from 'node:url';
import { dropSchema, services, uniqueName } from '@analytica/testing';
import { describeServiceProcess } from '@analytica/testing/service-process';

const schema = uniqueName('budget_main');

describeServiceProcess({
  name: 'budget',
  entry: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: () => ({
    DATABASE_URL: services.databaseUrl,
    DATABASE_SCHEMA: schema,
    KAFKA_BROKERS: services.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
    REDIS_URL: services.redisUrl,
  }),
  badEnv: { SCHEDULE_INTERVAL_MS: 'hourly', DATABASE_SCHEMA: 'no spaces allowed' },
  dependencies: ['postgres'],
  cleanup: () => dropSchema(schema),
});
