import { loadEnv } from '@analytica/config';
import { createLogger } from '@analytica/logger';
import { stopOnSignals } from '@analytica/service';
import { smtpCatcherEnvShape, startSmtpCatcher } from './index.js';

const env = loadEnv('smtp-catcher', smtpCatcherEnvShape);
const catcher = await startSmtpCatcher(env);
process.stdout.write(`Mail catcher: SMTP on ${catcher.smtpUrl}, caught mail at ${catcher.url}\n`);
stopOnSignals(catcher.stop, createLogger('smtp-catcher', env.LOG_LEVEL));
