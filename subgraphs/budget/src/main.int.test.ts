import { fileURLToPath } from 'node:url';
import { dropSchema, isolatedRunEnv, uniqueName } from '@analytica/testing';
import { describeServiceProcess } from '@analytica/testing/service-process';

const schema = uniqueName('budget_main');

describeServiceProcess({
  name: 'budget',
  entry: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: () => ({ ...isolatedRunEnv(uniqueName('run')), DATABASE_SCHEMA: schema }),
  badEnv: { SCHEDULE_INTERVAL_MS: 'hourly', DATABASE_SCHEMA: 'no spaces allowed' },
  dependencies: ['postgres'],
  cleanup: () => dropSchema(schema),
});
