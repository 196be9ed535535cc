import { loadEnv } from '@analytica/config';
import { startTracing } from '@analytica/telemetry';
import { stopOnSignals } from '@analytica/service';
import { createLogger } from '@analytica/logger';
import { startUserService, userEnvShape } from './index.js';

// First, so that the service's own requests and spans are traced from the start (when configured).
startTracing('user');
const env = loadEnv('user', userEnvShape);
const service = await startUserService(env);
stopOnSignals(service.stop, createLogger('user', env.LOG_LEVEL));
