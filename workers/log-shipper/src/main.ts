import { loadEnv } from '@analytica/config';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { logShipperEnvShape, startLogShipper } from './index.js';

const env = loadEnv('log-shipper', logShipperEnvShape);
const shipper = await startLogShipper(env);
stopOnSignals(shipper.stop, createLogger('log-shipper', env.LOG_LEVEL));
