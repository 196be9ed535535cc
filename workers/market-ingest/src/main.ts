import { loadEnv } from '@analytica/config';
import { startTracing } from '@analytica/telemetry';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { marketIngestEnvShape, startMarketIngest } from './index.js';

// First, so that the service's own requests and spans are traced from the start (when configured).
startTracing('market-ingest');
const env = loadEnv('market-ingest', marketIngestEnvShape);
const service = await startMarketIngest(env);
stopOnSignals(service.stop, createLogger('market-ingest', env.LOG_LEVEL));
