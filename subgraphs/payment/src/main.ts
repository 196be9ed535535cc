import { loadEnv } from '@analytica/config';
import { startTracing } from '@analytica/telemetry';
import { stopOnSignals } from '@analytica/service';
import { createLogger } from '@analytica/logger';
import { paymentEnvShape, startPaymentService } from './index.js';

// First, so that the service's own requests and spans are traced from the start (when configured).
startTracing('payment');
const env = loadEnv('payment', paymentEnvShape);
const service = await startPaymentService(env);
stopOnSignals(service.stop, createLogger('payment', env.LOG_LEVEL));
