import { loadEnv } from '@analytica/config';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { marketFeedEnvShape, startMarketFeed } from './index.js';

const env = loadEnv('market-feed', marketFeedEnvShape);
const service = await startMarketFeed(env);
stopOnSignals(service.stop, createLogger('market-feed', env.LOG_LEVEL));
