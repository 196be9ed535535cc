import { loadEnv } from '@analytica/config';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { gatewayEnvShape, startGateway } from './index.js';

const env = loadEnv('gateway', gatewayEnvShape);
const gateway = await startGateway(env);
stopOnSignals(gateway.stop, createLogger('gateway', env.LOG_LEVEL));
