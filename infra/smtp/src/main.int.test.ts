import { fileURLToPath } from 'node:url';
import { freePort } from '@analytica/testing';
import { describeServiceProcess } from '@analytica/testing/service-process';

describeServiceProcess({
  name: 'smtp-catcher',
  entry: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: async () => ({ SMTP_PORT: String(await freePort()) }),
  badEnv: { SMTP_PORT: 'twenty-five', MAILBOX_LIMIT: 'lots' },
  // Ready once its SMTP listener accepts mail; it keeps the mail in memory.
  dependencies: ['smtp'],
  metrics: ['smtp_messages_caught_total'],
});
