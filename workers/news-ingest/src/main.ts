import { loadEnv } from '@analytica/config';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { newsIngestEnvShape, startNewsIngest } from './index.js';

const env = loadEnv('news-ingest', newsIngestEnvShape);
const worker = await startNewsIngest(env);
stopOnSignals(worker.stop, createLogger('news-ingest', env.LOG_LEVEL));
