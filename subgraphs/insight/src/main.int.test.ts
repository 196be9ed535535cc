import { fileURLToPath } from 'node:url';
import { dropSchema, isolatedRunEnv, uniqueName } from '@analytica/testing';
import { describeServiceProcess } from '@analytica/testing/service-process';

const schema = uniqueName('insight_main');

describeServiceProcess({
  name: 'insight',
  entry: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: () => ({ ...isolatedRunEnv(uniqueName('run')), DATABASE_SCHEMA: schema }),
  badEnv: { KAFKA_TOPIC_PREFIX: 'no spaces', DATABASE_URL: 'mysql://db' },
  dependencies: ['postgres'],
  cleanup: () => dropSchema(schema),
});
