// Acceptance 3 of issue 16: the stack with Prometheus (Debian's package) scraping every process with
// infra/prometheus/alerts.yml. Stopping the budget service fires ServiceDown for budget within a
// minute, as the admin console sees it through the gateway's `alerts` field; starting it again
// resolves it. Beside it, the other metrics-side operations fields against the same real stack:
// consumer lag and dead letters from Kafka, the gateways' served versions and usage from the registry.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ADMIN } from '../../dev/src/demo.js';
import { DEFAULT_PORTS, repoRoot, SUBGRAPHS } from '../../dev/src/processes.js';
import { startStack, type RunningStack } from '../../dev/src/stack.js';
import { registryClient } from '@analytica/schema/registry';
import { dropSchema, eventually, freePort, gql, isolatedRunEnv, signInAdmin, uniqueName } from '@analytica/testing';

const run = uniqueName('e2ealerts');
let stack: RunningStack;
let adminToken: string;

beforeAll(async () => {
  const ports = Object.fromEntries(await Promise.all(Object.keys(DEFAULT_PORTS).map(async (name) => [name, await freePort()] as const))) as typeof DEFAULT_PORTS;
  stack = await startStack({
    ports,
    schemaPrefix: `${run}_`,
    logDir: path.join(repoRoot, '.data/test-logs', run),
    dataDir: path.join(repoRoot, '.data/test-secrets'),
    prometheusPort: await freePort(),
    env: { LOG_LEVEL: 'info', ...isolatedRunEnv(run), USAGE_FLUSH_SECONDS: '1' },
  });
  adminToken = (await signInAdmin(stack.gatewayUrl, DEMO_ADMIN)).accessToken;
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  for (const name of [...SUBGRAPHS, 'notifications', 'inference', 'registry']) await dropSchema(`${run}_${name}`);
});

interface Alert {
  name: string;
  state: 'PENDING' | 'FIRING';
  severity: string | null;
  service: string | null;
  summary: string | null;
  activeSince: string | null;
}

async function adminQuery(query: string, variables: Record<string, unknown> = {}) {
  const response = await gql(stack.gatewayUrl, query, { token: adminToken, variables });
  expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
  return response.data;
}

async function alerts(): Promise<{ available: boolean; reason: string | null; alerts: Alert[] }> {
  return (await adminQuery('{ alerts { available reason alerts { name state severity service summary activeSince } } }')).alerts;
}

const budgetDown = (list: Alert[]) => list.find((a) => a.name === 'ServiceDown' && a.service === 'budget');

describe('alerts through the gateway (acceptance 3)', () => {
  it('Prometheus scrapes every process of the stack, and no alert is firing for budget', async () => {
    // Every target answered its first scrape: `up` is 1 for each process by its stack name.
    const ups = await eventually(async () => {
      const response = await fetch(`${stack.prometheus!.url}/api/v1/query?query=${encodeURIComponent('up{job="analytica"}')}`);
      const body = (await response.json()) as { data: { result: { metric: { service: string }; value: [number, string] }[] } };
      const result = body.data.result;
      return result.length === stack.services.size && result.every((r) => r.value[1] === '1') ? result : undefined;
    }, 30_000);
    expect(ups.map((r) => r.metric.service).sort()).toEqual([...stack.services.keys()].sort());
    const report = await alerts();
    expect(report).toMatchObject({ available: true, reason: null });
    expect(budgetDown(report.alerts)).toBeUndefined();
  });

  it('fires ServiceDown for budget within a minute of stopping it, and resolves it once budget is back', async () => {
    const stoppedAt = Date.now();
    await stack.stopService('budget');
    const firing = await eventually(
      async () => {
        const alert = budgetDown((await alerts()).alerts);
        return alert?.state === 'FIRING' ? alert : undefined;
      },
      60_000,
      1000,
    );
    const firedAfterMs = Date.now() - stoppedAt;
    expect(firedAfterMs).toBeLessThan(60_000);
    expect(firing).toMatchObject({ severity: 'critical', service: 'budget' });
    expect(firing.summary).toContain('budget is down');
    expect(new Date(firing.activeSince!).getTime()).toBeGreaterThanOrEqual(stoppedAt - 5_000);

    await stack.startService('budget');
    await eventually(async () => (budgetDown((await alerts()).alerts) ? undefined : true), 60_000, 1000);
  }, 150_000);

  it('refuses the operations fields to a signed-in user who is not an administrator', async () => {
    const registered = await gql(stack.gatewayUrl, 'mutation($input: RegisterInput!) { register(input: $input) { accessToken } }', {
      variables: { input: { email: `${uniqueName('reader')}@example.com`, password: 'a long enough password 42', displayName: 'Not Admin', homeCurrency: 'EUR' } },
    });
    const token = registered.data.register.accessToken as string;
    for (const field of [
      'alerts { available }',
      'consumerGroups { available }',
      'deadLetterTopics { available }',
      'gatewayInstances { instanceId }',
      'operationUsage(since: "2026-01-01T00:00:00Z") { available }',
    ]) {
      const response = await gql(stack.gatewayUrl, `{ ${field} }`, { token });
      expect(response.errors?.[0]?.extensions?.code, field).toBe('FORBIDDEN');
      expect(response.data ?? null, field).toBeNull();
    }
  });
});

describe('the other metrics-side operations fields against the same stack', () => {
  it("consumerGroups reads each group's lag from Kafka, and Prometheus has it as kafka_consumer_group_lag", async () => {
    const { consumerGroups } = await adminQuery('{ consumerGroups { available reason groups { groupId topic lag partitions } } }');
    expect(consumerGroups).toMatchObject({ available: true, reason: null });
    // The payments worker reads payments.requested.v1 (group names without the run's topic prefix).
    const payments = consumerGroups.groups.find((g: { topic: string }) => g.topic === 'payments.requested.v1');
    expect(payments).toMatchObject({ partitions: 3 });
    expect(payments.lag).toBeGreaterThanOrEqual(0);
    const series = await eventually(
      async () => {
        const response = await fetch(`${stack.prometheus!.url}/api/v1/query?query=${encodeURIComponent('kafka_consumer_group_lag{topic="payments.requested.v1"}')}`);
        const body = (await response.json()) as { data: { result: unknown[] } };
        return body.data.result.length ? body.data.result : undefined;
      },
      20_000,
      1000,
    );
    expect(series.length).toBeGreaterThan(0);
  });

  it('deadLetterTopics counts the messages of each *.dlq topic', async () => {
    const { deadLetterTopics } = await adminQuery('{ deadLetterTopics { available reason topics { topic messages } } }');
    expect(deadLetterTopics).toMatchObject({ available: true, reason: null });
    for (const t of deadLetterTopics.topics) {
      expect(t.topic.endsWith('.dlq')).toBe(true);
      expect(t.messages).toBeGreaterThanOrEqual(0);
    }
  });

  it('gatewayInstances names the gateway and the registry version it serves', async () => {
    const [latest] = (await registryClient(stack.registry.url, stack.registry.adminToken).log(1)) as { version: number }[];
    const gatewayPort = new URL(stack.gatewayUrl).port;
    const instance = await eventually(
      async () => {
        const { gatewayInstances } = await adminQuery('{ gatewayInstances { instanceId schemaVersion lastSeenAt } }');
        return (gatewayInstances as { instanceId: string; schemaVersion: number | null; lastSeenAt: string }[]).find((g) => g.instanceId.endsWith(`:${gatewayPort}`));
      },
      30_000,
      1000,
    );
    expect(instance.schemaVersion).toBe(latest!.version);
    expect(Date.now() - new Date(instance.lastSeenAt).getTime()).toBeLessThan(60_000);
  });

  it('operationUsage answers requests per bucket from the registry, and refuses a bad bucket with BAD_USER_INPUT', async () => {
    const since = new Date(Date.now() - 10 * 60_000).toISOString();
    for (let i = 0; i < 3; i++)
      await gql(stack.gatewayUrl, 'query AlertsProbe { instrument(symbol: "AAPL") { symbol } }', { headers: { 'apollographql-client-name': 'alerts-test' } });
    const point = await eventually(
      async () => {
        const { operationUsage } = await adminQuery(
          'query($since: DateTimeISO!) { operationUsage(since: $since, bucketMinutes: 1, clientName: "alerts-test") { available reason points { bucketStart operationName clientName requests errors p95Ms } } }',
          { since },
        );
        expect(operationUsage).toMatchObject({ available: true, reason: null });
        const points = (operationUsage.points as { operationName: string; requests: number }[]).filter((p) => p.operationName === 'AlertsProbe');
        return points.reduce((sum, p) => sum + p.requests, 0) >= 3 ? points[0] : undefined;
      },
      30_000,
      1000,
    );
    expect(point).toMatchObject({ clientName: 'alerts-test' });
    const bad = await gql(stack.gatewayUrl, 'query($since: DateTimeISO!) { operationUsage(since: $since, bucketMinutes: 0) { available } }', {
      token: adminToken,
      variables: { since },
    });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.message).toContain('bucketMinutes');
  });
});
