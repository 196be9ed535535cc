import { loadEnv } from '@analytica/config';
import { startTracing } from '@analytica/telemetry';
import { createLogger } from '@analytica/logger';
import { runProcesses, stopOnSignals } from '@analytica/service';
import { parseGatewayEnv, startGateway } from './index.js';

const env = loadEnv('gateway', parseGatewayEnv);
const logger = createLogger('gateway', env.LOG_LEVEL);
await runProcesses({
  name: 'gateway',
  processes: env.GATEWAY_PROCESSES,
  logger,
  start: async () => {
    // Before the gateway starts, so that its own requests and spans are traced from the first (when configured).
    startTracing('gateway');
    const gateway = await startGateway(env);
    stopOnSignals(gateway.stop, logger);
  },
});
