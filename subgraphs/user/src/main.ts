import { loadEnv } from '@analytica/config';
import { stopOnSignals } from '@analytica/service';
import { createLogger } from '@analytica/logger';
import { startUserService, userEnvShape } from './index.js';

const env = loadEnv('user', userEnvShape);
const service = await startUserService(env);
stopOnSignals(service.stop, createLogger('user', env.LOG_LEVEL));
