import { loadEnv } from '@analytica/config';
import { startTracing } from '@analytica/telemetry';
import { stopOnSignals } from '@analytica/service';
import { createLogger } from '@analytica/logger';
import { marketEnvShape, startMarketService } from './index.js';

// First, so that the service's own requests and spans are traced from the start (when configured).
startTracing('market');
const env = loadEnv('market', marketEnvShape);
const service = await startMarketService(env);
stopOnSignals(service.stop, createLogger('market', env.LOG_LEVEL));
