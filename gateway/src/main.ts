import { loadEnv } from '@analytica/config';
import { startTracing } from '@analytica/telemetry';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { parseGatewayEnv, startGateway } from './index.js';

// First, so that the service's own requests and spans are traced from the start (when configured).
startTracing('gateway');
const env = loadEnv('gateway', parseGatewayEnv);
const gateway = await startGateway(env);
stopOnSignals(gateway.stop, createLogger('gateway', env.LOG_LEVEL));
