import { loadEnv } from '@analytica/config';
import { startTracing } from '@analytica/telemetry';
import { stopOnSignals } from '@analytica/service';
import { createLogger } from '@analytica/logger';
import { newsEnvShape, startNewsService } from './index.js';

// First, so that the service's own requests and spans are traced from the start (when configured).
startTracing('news');
const env = loadEnv('news', newsEnvShape);
const service = await startNewsService(env);
stopOnSignals(service.stop, createLogger('news', env.LOG_LEVEL));
