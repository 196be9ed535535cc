import { fileURLToPath } from 'node:url';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { createRedis } from '@analytica/redis';
import { services, uniqueName } from '@analytica/testing';
import { describeServiceProcess } from '@analytica/testing/service-process';

const prefix = uniqueName('market_main');

describeServiceProcess({
  name: 'market',
  entry: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: () => ({
    REDIS_URL: services.redisUrl,
    REDIS_KEY_PREFIX: `${prefix}:`,
    DYNAMODB_ENDPOINT: services.dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: `${prefix}_`,
  }),
  // Names with KEY in them are shown redacted; the variable is still named.
  badEnv: { REDIS_KEY_PREFIX: 'quotes{eu}:', DYNAMODB_ENDPOINT: 'not a url' },
  dependencies: ['redis', 'dynamodb'],
  cleanup: async () => {
    const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
    await deleteTablesWithPrefix(dynamo, prefix);
    dynamo.close();
    const redis = createRedis(services.redisUrl);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  },
});
