import { loadEnv } from '@analytica/config';
import { stopOnSignals } from '@analytica/service';
import { createLogger } from '@analytica/logger';
import { insightEnvShape, startInsightService } from './index.js';

const env = loadEnv('insight', insightEnvShape);
const service = await startInsightService(env);
stopOnSignals(service.stop, createLogger('insight', env.LOG_LEVEL));
