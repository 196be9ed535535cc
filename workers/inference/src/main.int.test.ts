import { fileURLToPath } from 'node:url';
import { dropSchema, isolatedRunEnv, uniqueName } from '@analytica/testing';
import { describeServiceProcess } from '@analytica/testing/service-process';

const schema = uniqueName('inference_main');

describeServiceProcess({
  name: 'inference-worker',
  entry: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: () => ({ ...isolatedRunEnv(uniqueName('run')), DATABASE_SCHEMA: schema }),
  badEnv: { CATEGORY_MIN_CONFIDENCE: '2', INFERENCE_RETRY_DELAYS_MS: 'soon' },
  dependencies: ['postgres', 'kafka'],
  metrics: ['inference_latency_seconds', 'inference_events_total', 'inference_events_per_second', 'inference_model_info'],
  inFlight: (url) => fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ payee: 'LIDL', amountMinor: -1200 }) }),
  cleanup: () => dropSchema(schema),
});
