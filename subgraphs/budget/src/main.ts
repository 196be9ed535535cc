import { loadEnv } from '@analytica/config';
import { startTracing } from '@analytica/telemetry';
import { stopOnSignals } from '@analytica/service';
import { createLogger } from '@analytica/logger';
import { budgetEnvShape, startBudgetService } from './index.js';

// First, so that the service's own requests and spans are traced from the start (when configured).
startTracing('budget');
const env = loadEnv('budget', budgetEnvShape);
const service = await startBudgetService(env);
stopOnSignals(service.stop, createLogger('budget', env.LOG_LEVEL));
