import { loadEnv } from '@analytica/config';
import { createLogger } from '@analytica/logger';
import { smtpCatcherEnvShape, startSmtpCatcher } from './index.js';

const env = loadEnv('smtp-catcher', smtpCatcherEnvShape);
const catcher = await startSmtpCatcher(env);
const logger = createLogger('smtp-catcher', env.LOG_LEVEL);
process.stdout.write(`Mail catcher: SMTP on ${catcher.smtpUrl}, caught mail at ${catcher.url}\n`);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    void catcher.stop().then(() => process.exit(0));
  });
}
