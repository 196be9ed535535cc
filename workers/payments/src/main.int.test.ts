import { fileURLToPath } from 'node:url';
import { dropSchema, isolatedRunEnv, uniqueName } from '@analytica/testing';
import { describeServiceProcess } from '@analytica/testing/service-process';

const schema = uniqueName('payments_worker_main');

describeServiceProcess({
  name: 'payments-worker',
  entry: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: () => ({ ...isolatedRunEnv(uniqueName('run')), DATABASE_SCHEMA: schema }),
  badEnv: { PAYMENT_RETRY_DELAYS_MS: '100,soon', BANK_API_URL: 'ftp://bank' },
  dependencies: ['postgres', 'kafka', 'redis'],
  metrics: ['payments_settled_total'],
  cleanup: () => dropSchema(schema),
});
