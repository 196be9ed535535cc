import { describe, expect, it } from 'vitest';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { createTcpProxy, createTestAuth, eventually, services, uniqueName } from '@analytica/testing';
import { parseMarketEnv, startMarketService } from './index.js';

const statusOf = async (url: string) => {
  const response = await fetch(`${url}/ready`);
  return { status: response.status, checks: ((await response.json()) as { checks: Record<string, string> }).checks };
};

describe('market readiness', () => {
  it('is not ready while Redis or DynamoDB is unreachable, names which, and recovers', async () => {
    const redisTarget = new URL(services.redisUrl);
    const dynamoTarget = new URL(services.dynamoEndpoint);
    const redisProxy = await createTcpProxy({ host: redisTarget.hostname, port: Number(redisTarget.port || 6379) });
    const dynamoProxy = await createTcpProxy({ host: dynamoTarget.hostname, port: Number(dynamoTarget.port) });
    const auth = await createTestAuth();
    const tablePrefix = `${uniqueName('ready')}_`;
    const service = await startMarketService(
      parseMarketEnv({
        PORT: '0',
        LOG_LEVEL: 'silent',
        ...auth.env,
        REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`,
        REDIS_KEY_PREFIX: `${uniqueName('ready')}:`,
        DYNAMODB_ENDPOINT: `http://127.0.0.1:${dynamoProxy.port}`,
        DYNAMODB_TABLE_PREFIX: tablePrefix,
      }),
    );
    try {
      expect(await statusOf(service.url)).toEqual({ status: 200, checks: { redis: 'ok', dynamodb: 'ok' } });

      redisProxy.cut();
      const withoutRedis = await statusOf(service.url);
      expect(withoutRedis.status).toBe(503);
      expect(withoutRedis.checks.redis).toMatch(/^unavailable/);
      expect(withoutRedis.checks.dynamodb).toBe('ok');
      redisProxy.restore();
      await eventually(async () => ((await statusOf(service.url)).status === 200 ? true : undefined), 15_000);

      dynamoProxy.cut();
      const withoutDynamo = await statusOf(service.url);
      expect(withoutDynamo.status).toBe(503);
      expect(withoutDynamo.checks.dynamodb).toMatch(/^unavailable/);
      dynamoProxy.restore();
      await eventually(async () => ((await statusOf(service.url)).status === 200 ? true : undefined), 15_000);
    } finally {
      await service.stop();
      await redisProxy.close();
      await dynamoProxy.close();
      await auth.close();
      const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
      await deleteTablesWithPrefix(dynamo, tablePrefix);
      dynamo.close();
    }
  });
});
