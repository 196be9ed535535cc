import { loadEnv } from '@analytica/config';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { notificationsEnvShape, startNotificationsWorker } from './index.js';

const env = loadEnv('notifications-worker', notificationsEnvShape);
const worker = await startNotificationsWorker(env);
stopOnSignals(worker.stop, createLogger('notifications-worker', env.LOG_LEVEL));
