import { loadEnv } from '@analytica/config';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { parsePaymentsWorkerEnv, startPaymentsWorker } from './index.js';

const env = loadEnv('payments-worker', parsePaymentsWorkerEnv);
const worker = await startPaymentsWorker(env);
stopOnSignals(worker.stop, createLogger('payments-worker', env.LOG_LEVEL));
