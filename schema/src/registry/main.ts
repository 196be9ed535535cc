import { loadEnv } from '@analytica/config';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { parseRegistryEnv, startRegistry } from './index.js';

const env = loadEnv('registry', parseRegistryEnv);
const registry = await startRegistry(env);
stopOnSignals(registry.stop, createLogger('registry', env.LOG_LEVEL));
