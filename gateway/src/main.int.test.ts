import { fileURLToPath } from 'node:url';
import { services, uniqueName } from '@analytica/testing';
import { describeServiceProcess } from '@analytica/testing/service-process';

describeServiceProcess({
  name: 'gateway',
  entry: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: () => ({ REDIS_URL: services.redisUrl, REDIS_KEY_PREFIX: `${uniqueName('gateway_main')}:`, SUPERGRAPH_WATCH: 'false' }),
  badEnv: { GRAPHQL_MAX_DEPTH: 'deep', SUBGRAPH_USER_URL: 'ftp://user' },
  dependencies: ['supergraph', 'redis'],
});
