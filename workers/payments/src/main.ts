import { loadEnv } from '@analytica/config';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { paymentsWorkerEnvShape, startPaymentsWorker } from './index.js';

const env = loadEnv('payments-worker', paymentsWorkerEnvShape);
const worker = await startPaymentsWorker(env);
stopOnSignals(worker.stop, createLogger('payments-worker', env.LOG_LEVEL));
