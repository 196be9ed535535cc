import { fileURLToPath } from 'node:url';
import { describeServiceProcess } from '@analytica/testing/service-process';

describeServiceProcess({
  name: 'bank-simulator',
  entry: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: () => ({ BANK_LATENCY_MEDIAN_MS: '1', BANK_LATENCY_P99_MS: '2' }),
  badEnv: { BANK_FAILURE_RATE: 'often', BANK_FAILURE_KINDS: 'meteor' },
  // It keeps its books in memory (or a file): nothing to wait for.
  dependencies: [],
});
