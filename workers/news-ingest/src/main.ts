import { loadEnv } from '@analytica/config';
import { startTracing } from '@analytica/telemetry';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { newsIngestEnvShape, startNewsIngest } from './index.js';

// First, so that the service's own requests and spans are traced from the start (when configured).
startTracing('news-ingest');
const env = loadEnv('news-ingest', newsIngestEnvShape);
const worker = await startNewsIngest(env);
stopOnSignals(worker.stop, createLogger('news-ingest', env.LOG_LEVEL));
