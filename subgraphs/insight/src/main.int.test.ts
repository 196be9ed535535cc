import { fileURLToPath } from 'node:url';
import { dropSchema, services, uniqueName } from '@analytica/testing';
import { describeServiceProcess } from '@analytica/testing/service-process';

const schema = uniqueName('insight_main');

describeServiceProcess({
  name: 'insight',
  entry: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: () => ({
    DATABASE_URL: services.databaseUrl,
    DATABASE_SCHEMA: schema,
    KAFKA_BROKERS: services.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
    REDIS_URL: services.redisUrl,
  }),
  badEnv: { KAFKA_TOPIC_PREFIX: 'no spaces', DATABASE_URL: 'mysql://db' },
  dependencies: ['postgres'],
  cleanup: () => dropSchema(schema),
});
