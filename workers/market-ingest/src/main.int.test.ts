import { fileURLToPath } from 'node:url';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { createRedis } from '@analytica/redis';
import { services, uniqueName } from '@analytica/testing';
import { describeServiceProcess } from '@analytica/testing/service-process';

const prefix = uniqueName('ingest_main');

describeServiceProcess({
  name: 'market-ingest',
  entry: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: () => ({
    REDIS_URL: services.redisUrl,
    REDIS_KEY_PREFIX: `${prefix}:`,
    DYNAMODB_ENDPOINT: services.dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: `${prefix}_`,
    KAFKA_BROKERS: services.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: `${prefix}.`,
  }),
  badEnv: { INGEST_FLUSH_MS: 'often', KAFKA_BROKERS: ' , ' },
  dependencies: ['redis', 'dynamodb', 'kafka'],
  metrics: ['market_ingest_ticks_total'],
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
