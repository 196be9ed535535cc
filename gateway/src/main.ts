import { loadEnv } from '@analytica/config';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { parseGatewayEnv, startGateway } from './index.js';

const env = loadEnv('gateway', parseGatewayEnv);
const gateway = await startGateway(env);
stopOnSignals(gateway.stop, createLogger('gateway', env.LOG_LEVEL));
