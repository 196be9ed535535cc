import { loadEnv } from '@analytica/config';
import { stopOnSignals } from '@analytica/service';
import { createLogger } from '@analytica/logger';
import { budgetEnvShape, startBudgetService } from './index.js';

const env = loadEnv('budget', budgetEnvShape);
const service = await startBudgetService(env);
stopOnSignals(service.stop, createLogger('budget', env.LOG_LEVEL));
