import { fileURLToPath } from 'node:url';
import { dropSchema, isolatedRunEnv, uniqueName } from '@analytica/testing';
import { describeServiceProcess } from '@analytica/testing/service-process';

const schema = uniqueName('registry_main');
const token = 'main-test-admin-token-0123456789abcdef';

describeServiceProcess({
  name: 'registry',
  entry: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: () => ({ ...isolatedRunEnv(uniqueName('run')), DATABASE_SCHEMA: schema, REGISTRY_ADMIN_TOKEN: token }),
  badEnv: { DATABASE_URL: 'mysql://db', REGISTRY_CHECK_WINDOW_DAYS: 'a month', REGISTRY_ADMIN_TOKEN: 'too-short' },
  dependencies: ['postgres'],
  inFlight: (url) => fetch(`${url}/api/versions`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json()),
  cleanup: () => dropSchema(schema),
});
