import { loadEnv } from '@analytica/config';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { parseInferenceEnv, startInferenceWorker } from './index.js';

const env = loadEnv('inference-worker', parseInferenceEnv);
const worker = await startInferenceWorker(env);
stopOnSignals(worker.stop, createLogger('inference-worker', env.LOG_LEVEL));
