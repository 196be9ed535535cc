// The metrics side of the operations fields (issue 16) on the user service alone, against real
// PostgreSQL, Redis and Kafka: consumer lag and dead letters read from the broker (and the same
// numbers on /metrics for Prometheus), the ADMIN-only rule, bad input, and sources that are away
// answering `available: false` with the reason. The stack test (test/e2e/alerts.test.ts) covers
// Prometheus and the registry answering.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPem } from '@analytica/auth';
import { createRedis } from '@analytica/redis';
import { dropSchema, freePort, gql, services, signInAdmin, uniqueName, TEST_SUBGRAPH_SIGNING_KEY } from '@analytica/testing';
import { parseUserEnv, startUserService } from './index.js';

const schema = uniqueName('user_monitoring');
const redisPrefix = `${uniqueName('user_monitoring')}:`;
const topicPrefix = `${uniqueName('mon')}.`;
const ADMIN = { email: 'root@example.com', password: 'the first admin password' };
const kafka = new Kafka({ clientId: 'user-monitoring-test', brokers: services.kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
let service: Awaited<ReturnType<typeof startUserService>>;
let url: string;
let adminToken: string;
let closedPort: number;

beforeAll(async () => {
  // Kafka as the services leave it: a topic of 5 messages that a group has read 2 of, and a dead-letter topic of 4.
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: `${topicPrefix}probe.v1`, numPartitions: 1 },
      { topic: `${topicPrefix}probe.v1.dlq`, numPartitions: 1 },
    ],
    waitForLeaders: true,
  });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: `${topicPrefix}probe.v1`, messages: [1, 2, 3, 4, 5].map((n) => ({ value: String(n) })) });
  await producer.send({ topic: `${topicPrefix}probe.v1.dlq`, messages: [1, 2, 3, 4].map((n) => ({ value: String(n) })) });
  await producer.disconnect();
  await admin.setOffsets({ groupId: `${topicPrefix}probe-group`, topic: `${topicPrefix}probe.v1`, partitions: [{ partition: 0, offset: '2' }] });
  await admin.disconnect();

  closedPort = await freePort(); // nothing listens there: a Prometheus that is down
  service = await startUserService(
    parseUserEnv({
      SUBGRAPH_SIGNING_KEY: TEST_SUBGRAPH_SIGNING_KEY,
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATABASE_URL: services.databaseUrl,
      DATABASE_SCHEMA: schema,
      KAFKA_BROKERS: services.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: topicPrefix,
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: redisPrefix,
      JWT_PRIVATE_KEY: generateSigningKeyPem(),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      PROMETHEUS_URL: `http://127.0.0.1:${closedPort}`,
    }),
  );
  url = `${service.url}/graphql`;
  adminToken = (await signInAdmin(url, ADMIN)).accessToken;
}, 60_000);

afterAll(async () => {
  await service?.stop();
  await dropSchema(schema);
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteGroups([`${topicPrefix}probe-group`]).catch(() => undefined);
  await admin.deleteTopics({ topics: [`${topicPrefix}probe.v1`, `${topicPrefix}probe.v1.dlq`] }).catch(() => undefined);
  await admin.disconnect();
  const redis = createRedis(services.redisUrl);
  const keys = await redis.keys(`${redisPrefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

const asAdmin = async (query: string, variables?: Record<string, unknown>) => {
  const response = await gql(url, query, { token: adminToken, variables });
  expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
  return response.data;
};

describe('Kafka', () => {
  it("consumerGroups reads the group's lag on its topic from the broker, without the deployment's prefix", async () => {
    const { consumerGroups } = await asAdmin('{ consumerGroups { available reason groups { groupId topic lag partitions } } }');
    expect(consumerGroups).toEqual({ available: true, reason: null, groups: [{ groupId: 'probe-group', topic: 'probe.v1', lag: 3, partitions: 1 }] });
  });

  it('deadLetterTopics counts the messages of each *.dlq topic of this deployment', async () => {
    const { deadLetterTopics } = await asAdmin('{ deadLetterTopics { available reason topics { topic messages } } }');
    expect(deadLetterTopics).toEqual({ available: true, reason: null, topics: [{ topic: 'probe.v1.dlq', messages: 4 }] });
  });

  it('exports the same numbers on /metrics for the alert rules', async () => {
    const text = await (await fetch(`${service.metricsUrl}/metrics`)).text();
    expect(text).toMatch(/^kafka_consumer_group_lag\{group="probe-group",topic="probe\.v1",service="user"\} 3$/m);
    expect(text).toMatch(/^kafka_dead_letter_messages\{topic="probe\.v1\.dlq",service="user"\} 4$/m);
    expect(text).toMatch(/^kafka_admin_up\{service="user"\} 1$/m);
  });
});

describe('sources that are away or unset', () => {
  it('alerts: Prometheus not answering is available false with the reason, not an error', async () => {
    const { alerts } = await asAdmin('{ alerts { available reason alerts { name } } }');
    expect(alerts.available).toBe(false);
    expect(alerts.reason).toContain(`Prometheus at http://127.0.0.1:${closedPort} did not answer`);
    expect(alerts.alerts).toEqual([]);
  });

  it('operationUsage and gatewayInstances without a registry: unavailable with the reason, and an empty list', async () => {
    const { operationUsage, gatewayInstances } = await asAdmin(
      '{ operationUsage(since: "2026-01-01T00:00:00Z") { available reason points { requests } } gatewayInstances { instanceId } }',
    );
    expect(operationUsage).toEqual({ available: false, reason: expect.stringContaining('REGISTRY_URL and REGISTRY_TOKEN are not both set'), points: [] });
    expect(gatewayInstances).toEqual([]);
  });

  it('operationUsage refuses a bucket outside 1..1440 minutes and a range that ends before it starts', async () => {
    const zero = await gql(url, '{ operationUsage(since: "2026-01-01T00:00:00Z", bucketMinutes: 0) { available } }', { token: adminToken });
    expect(zero.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'bucketMinutes' });
    const backwards = await gql(url, '{ operationUsage(since: "2026-02-01T00:00:00Z", until: "2026-01-01T00:00:00Z") { available } }', { token: adminToken });
    expect(backwards.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'since' });
  });
});

describe('access', () => {
  it('every field is FORBIDDEN to a signed-in user who is not an administrator, and to an anonymous caller', async () => {
    const registered = await gql(url, 'mutation($i: RegisterInput!) { register(input: $i) { accessToken } }', {
      variables: { i: { email: `${uniqueName('reader')}@example.com`, password: 'a long enough password 42', displayName: 'Reader', homeCurrency: 'EUR' } },
    });
    const token = registered.data.register.accessToken as string;
    for (const field of [
      'alerts { available }',
      'consumerGroups { available }',
      'deadLetterTopics { available }',
      'gatewayInstances { instanceId }',
      'operationUsage(since: "2026-01-01T00:00:00Z") { available }',
    ]) {
      const asUser = await gql(url, `{ ${field} }`, { token });
      expect(asUser.errors?.[0]?.extensions?.code, field).toBe('FORBIDDEN');
      expect(asUser.data ?? null, field).toBeNull();
      const anonymous = await gql(url, `{ ${field} }`);
      expect(anonymous.errors?.[0]?.extensions?.code, field).toMatch(/^(UNAUTHENTICATED|FORBIDDEN)$/);
    }
  });
});
