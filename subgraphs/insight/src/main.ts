import { loadEnv } from '@analytica/config';
import { startTracing } from '@analytica/telemetry';
import { stopOnSignals } from '@analytica/service';
import { createLogger } from '@analytica/logger';
import { insightEnvShape, startInsightService } from './index.js';

// First, so that the service's own requests and spans are traced from the start (when configured).
startTracing('insight');
const env = loadEnv('insight', insightEnvShape);
const service = await startInsightService(env);
stopOnSignals(service.stop, createLogger('insight', env.LOG_LEVEL));
