import { loadEnv } from '@analytica/config';
import { startTracing } from '@analytica/telemetry';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { parseInferenceEnv, startInferenceWorker } from './index.js';

// First, so that the service's own requests and spans are traced from the start (when configured).
startTracing('inference-worker');
const env = loadEnv('inference-worker', parseInferenceEnv);
const worker = await startInferenceWorker(env);
stopOnSignals(worker.stop, createLogger('inference-worker', env.LOG_LEVEL));
