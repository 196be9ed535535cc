import { loadEnv } from '@analytica/config';
import { startTracing } from '@analytica/telemetry';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { parseRegistryEnv, startRegistry } from './index.js';

// First, so that the service's own requests and spans are traced from the start (when configured).
startTracing('registry');
const env = loadEnv('registry', parseRegistryEnv);
const registry = await startRegistry(env);
stopOnSignals(registry.stop, createLogger('registry', env.LOG_LEVEL));
