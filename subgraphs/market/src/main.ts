import { loadEnv } from '@analytica/config';
import { stopOnSignals } from '@analytica/service';
import { createLogger } from '@analytica/logger';
import { marketEnvShape, startMarketService } from './index.js';

const env = loadEnv('market', marketEnvShape);
const service = await startMarketService(env);
stopOnSignals(service.stop, createLogger('market', env.LOG_LEVEL));
