import { describe, expect, it } from 'vitest';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { createTcpProxy, createTestAuth, eventually, services, uniqueName } from '@analytica/testing';
import { parseNewsEnv, startNewsService } from './index.js';

describe('news readiness', () => {
  it('is not ready while DynamoDB is unreachable, names it, and recovers', async () => {
    const target = new URL(services.dynamoEndpoint);
    const proxy = await createTcpProxy({ host: target.hostname, port: Number(target.port) });
    const auth = await createTestAuth();
    const tablePrefix = `${uniqueName('ready')}_`;
    const service = await startNewsService(
      parseNewsEnv({ PORT: '0', LOG_LEVEL: 'silent', ...auth.env, DYNAMODB_ENDPOINT: `http://127.0.0.1:${proxy.port}`, DYNAMODB_TABLE_PREFIX: tablePrefix }),
    );
    try {
      expect((await fetch(`${service.url}/ready`)).status).toBe(200);
      proxy.cut();
      const down = await fetch(`${service.url}/ready`);
      expect(down.status).toBe(503);
      expect(((await down.json()) as { checks: Record<string, string> }).checks.dynamodb).toMatch(/^unavailable/);
      proxy.restore();
      await eventually(async () => ((await fetch(`${service.url}/ready`)).status === 200 ? true : undefined), 15_000);
    } finally {
      await service.stop();
      await proxy.close();
      await auth.close();
      const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
      await deleteTablesWithPrefix(dynamo, tablePrefix);
      dynamo.close();
    }
  });
});
