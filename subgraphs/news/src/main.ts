import { loadEnv } from '@analytica/config';
import { stopOnSignals } from '@analytica/service';
import { createLogger } from '@analytica/logger';
import { newsEnvShape, startNewsService } from './index.js';

const env = loadEnv('news', newsEnvShape);
const service = await startNewsService(env);
stopOnSignals(service.stop, createLogger('news', env.LOG_LEVEL));
