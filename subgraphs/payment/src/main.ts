import { loadEnv } from '@analytica/config';
import { stopOnSignals } from '@analytica/service';
import { createLogger } from '@analytica/logger';
import { paymentEnvShape, startPaymentService } from './index.js';

const env = loadEnv('payment', paymentEnvShape);
const service = await startPaymentService(env);
stopOnSignals(service.stop, createLogger('payment', env.LOG_LEVEL));
