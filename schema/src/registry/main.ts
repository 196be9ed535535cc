import { ConfigError } from '@analytica/config';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { parseRegistryEnv, startRegistry, type RegistryEnv } from './index.js';

let env: RegistryEnv;
try {
  env = parseRegistryEnv(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`registry: ${error.message}\n`);
  process.exit(78); // EX_CONFIG, as loadEnv
}
const registry = await startRegistry(env);
stopOnSignals(registry.stop, createLogger('registry', env.LOG_LEVEL));
