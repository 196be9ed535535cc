import { loadEnv } from '@analytica/config';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { bankEnvShape, startBankSimulator } from './index.js';

const env = loadEnv('bank-simulator', bankEnvShape);
const simulator = await startBankSimulator(env);
stopOnSignals(simulator.stop, createLogger('bank-simulator', env.LOG_LEVEL));
