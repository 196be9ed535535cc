import { loadEnv } from '@analytica/config';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { newsSourcesEnvShape, startNewsSources } from './index.js';

const env = loadEnv('news-sources', newsSourcesEnvShape);
const simulator = await startNewsSources(env);
stopOnSignals(simulator.stop, createLogger('news-sources', env.LOG_LEVEL));
