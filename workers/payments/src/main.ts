import { loadEnv } from '@analytica/config';
import { startTracing } from '@analytica/telemetry';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { parsePaymentsWorkerEnv, startPaymentsWorker } from './index.js';

// First, so that the service's own requests and spans are traced from the start (when configured).
startTracing('payments-worker');
const env = loadEnv('payments-worker', parsePaymentsWorkerEnv);
const worker = await startPaymentsWorker(env);
stopOnSignals(worker.stop, createLogger('payments-worker', env.LOG_LEVEL));
