import { loadEnv } from '@analytica/config';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { marketIngestEnvShape, startMarketIngest } from './index.js';

const env = loadEnv('market-ingest', marketIngestEnvShape);
const service = await startMarketIngest(env);
stopOnSignals(service.stop, createLogger('market-ingest', env.LOG_LEVEL));
