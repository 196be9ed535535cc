import { loadEnv } from '@analytica/config';
import { startTracing } from '@analytica/telemetry';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { notificationsEnvShape, startNotificationsWorker } from './index.js';

// First, so that the service's own requests and spans are traced from the start (when configured).
startTracing('notifications-worker');
const env = loadEnv('notifications-worker', notificationsEnvShape);
const worker = await startNotificationsWorker(env);
stopOnSignals(worker.stop, createLogger('notifications-worker', env.LOG_LEVEL));
