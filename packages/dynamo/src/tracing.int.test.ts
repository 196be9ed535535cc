// DynamoDB calls inside a traced request are spans of that trace (the SDK middleware of
// createDynamo); calls outside any trace start none. Against the dynalite and the Zipkin that
// infra/up.sh starts.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { contextFromHeaders, inSpan, startTracing, type Tracing } from '@analytica/telemetry';
import { QueryCommand, createDynamo, deleteTablesWithPrefix } from './index.js';

const ZIPKIN = (process.env.ZIPKIN_URL ?? 'http://127.0.0.1:9411').replace(/\/$/, '');
const table = `tracing_test_${randomBytes(4).toString('hex')}`;
const dynamo = createDynamo({ endpoint: process.env.TEST_DYNAMODB_ENDPOINT ?? 'http://127.0.0.1:4567', region: 'local' });
let tracing: Tracing;

beforeAll(async () => {
  tracing = startTracing('dynamo-test', { OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${ZIPKIN}/api/v2/spans`, OTEL_BSP_SCHEDULE_DELAY: '50' });
  await dynamo.ensureTable({ TableName: table, KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }] });
});

afterAll(async () => {
  await tracing.shutdown();
  await deleteTablesWithPrefix(dynamo, table);
});

type ZipkinSpan = { id: string; name: string; parentId?: string; kind?: string; tags: Record<string, string> };

async function spansOf(traceId: string): Promise<ZipkinSpan[]> {
  return vi.waitFor(
    async () => {
      const response = await fetch(`${ZIPKIN}/api/v2/trace/${traceId}`);
      if (!response.ok) throw new Error(`Zipkin has no trace ${traceId} yet (${response.status})`);
      return (await response.json()) as ZipkinSpan[];
    },
    { timeout: 10_000, interval: 100 },
  );
}

describe('DynamoDB calls and traces', () => {
  it('is a CLIENT span under the request that made the call, naming the operation and the table', async () => {
    const traceId = randomBytes(16).toString('hex');
    const caller = contextFromHeaders({ traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` });
    await inSpan('request', { parent: caller }, () =>
      dynamo.doc.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'x' } })),
    );
    await tracing.flush();
    const spans = await spansOf(traceId);
    const request = spans.find((s) => s.name === 'request')!;
    const query = spans.find((s) => s.name === 'dynamodb query');
    expect(query, JSON.stringify(spans)).toMatchObject({ kind: 'CLIENT', parentId: request.id });
    expect(query!.tags).toMatchObject({ 'db.system.name': 'aws.dynamodb', 'db.operation.name': 'Query', 'db.collection.name': table });
  });

  it('starts no trace for a call outside any request', async () => {
    const before = await (await fetch(`${ZIPKIN}/api/v2/traces?serviceName=dynamo-test&spanName=dynamodb%20query&limit=1000&lookback=600000`)).json();
    await dynamo.doc.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'y' } }));
    await tracing.flush();
    // Give Zipkin the time a span takes to arrive (the first test's arrived within it).
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await (await fetch(`${ZIPKIN}/api/v2/traces?serviceName=dynamo-test&spanName=dynamodb%20query&limit=1000&lookback=600000`)).json();
    expect((after as unknown[]).length).toBe((before as unknown[]).length);
  });
});
