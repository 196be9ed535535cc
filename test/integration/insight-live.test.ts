// insightCreated through the real gateway (graphql-ws): new insights reach their owner only, once.
// Real PostgreSQL, Kafka (the spending events the insights are derived from) and Redis. It lives
// here, not in the insight subgraph, because it composes the subgraph behind the gateway.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createKafkaBus, encodeEvent, type EventBus, type EventPayload } from '@analytica/events';
import { parseGatewayEnv, startGateway } from '@analytica/gateway';
import { createLogger } from '@analytica/logger';
import { createRedis } from '@analytica/redis';
import { callerChannel } from '@analytica/redis/live';
import { compose } from '@analytica/schema';
import { printSdl } from '@analytica/subgraph';
import { buildInsightSchema, parseInsightEnv, startInsightService } from '@analytica/insight-subgraph';
import { createTestAuth, dropSchema, eventually, gql, services, uniqueName, type TestAuth } from '@analytica/testing';

const schema = uniqueName('insight_live');
const topicPrefix = `${uniqueName('t')}.`;
const redisPrefix = `${uniqueName('r')}:`;
const ada = { id: randomUUID() };
const bob = { id: randomUUID() };
let auth: TestAuth;
let service: Awaited<ReturnType<typeof startInsightService>>;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let gatewayUrl: string;
let bus: EventBus;
let dir: string;
const redis = createRedis(services.redisUrl);
const clients: Client[] = [];

type Recorded = EventPayload<'transactions.recorded.v1'>;
const spent = (userId: string, amountMinor: number, bookedAt: string, categoryId: string | null): Recorded => ({
  userId,
  transactionId: randomUUID(),
  accountId: randomUUID(),
  categoryId,
  amountMinor: String(amountMinor),
  currency: 'EUR',
  payee: 'Shop',
  bookedAt,
});

beforeAll(async () => {
  auth = await createTestAuth();
  const stores = { REDIS_URL: services.redisUrl, REDIS_KEY_PREFIX: redisPrefix };
  service = await startInsightService(
    parseInsightEnv({
      ...auth.env,
      ...stores,
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATABASE_URL: services.databaseUrl,
      DATABASE_SCHEMA: schema,
      KAFKA_BROKERS: services.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: topicPrefix,
    }),
  );
  dir = await mkdtemp(path.join(os.tmpdir(), 'insight-live-'));
  const composed = compose([{ name: 'insight', url: `${service.url}/graphql`, sdl: printSdl(await buildInsightSchema()) }]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  await writeFile(path.join(dir, 'supergraph.graphql'), composed.supergraphSdl);
  gateway = await startGateway(
    parseGatewayEnv({ ...auth.env, ...stores, PORT: '0', LOG_LEVEL: 'silent', SUPERGRAPH_PATH: path.join(dir, 'supergraph.graphql'), SUPERGRAPH_WATCH: 'false' }),
  );
  gatewayUrl = `${gateway.url}/graphql`;

  // Groceries up by half from February to March, for Ada and for Bob.
  bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'insight-live-test', prefix: topicPrefix, logger: createLogger('test', 'silent') });
  const events = [ada, bob].flatMap((who) => [spent(who.id, -10_000, '2025-02-10T10:00:00Z', 'groceries'), spent(who.id, -15_000, '2025-03-10T10:00:00Z', 'groceries')]);
  await bus.publish(
    'transactions.recorded.v1',
    events.map((e) => encodeEvent('transactions.recorded.v1', e.userId, e)),
  );
  await eventually(async () => {
    const [row] = await service.db.orm.em.getConnection().execute<{ n: string }[]>('select count(*) as n from processed_events');
    return Number(row?.n) >= events.length ? true : undefined;
  }, 30_000);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await gateway?.stop();
  await service?.stop();
  await bus?.close();
  await auth?.close();
  await redis.quit();
  await dropSchema(schema);
  await rm(dir, { recursive: true, force: true });
});

function subscribe(token: string, query: string) {
  const client = createClient({ url: gatewayUrl.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
  clients.push(client);
  const results: { data?: any; errors?: any }[] = [];
  const errors: unknown[] = [];
  client.subscribe({ query }, { next: (r) => void results.push(r), error: (e) => void errors.push(e), complete: () => {} });
  return { results, errors };
}

async function listening(channel: string) {
  await eventually(async () => {
    const [, count] = (await redis.call('PUBSUB', 'NUMSUB', `${redisPrefix}${channel}`)) as [string, number];
    return count > 0 ? true : undefined;
  });
}

const CREATED = 'subscription { insightCreated { id userId kind title body categoryId reportId createdAt dismissedAt } }';
const GENERATE = 'mutation { generateReport(period: MONTHLY, startsOn: "2025-03-01") { id } }';
const INSIGHTS = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { insights { id userId kind title body categoryId reportId createdAt dismissedAt } } } }';

describe('insightCreated', () => {
  it('tells the owner of each insight a report created, once, and nobody else', async () => {
    const adaToken = auth.tokenFor(ada);
    const adaSees = subscribe(adaToken, CREATED);
    const bobSees = subscribe(auth.tokenFor(bob), CREATED);
    await listening(callerChannel('Insight', ada.id));
    await listening(callerChannel('Insight', bob.id));

    const report = await gql(gatewayUrl, GENERATE, { token: adaToken });
    expect(report.errors).toBeUndefined();
    const stored = await gql(`${service.url}/graphql`, INSIGHTS, { token: adaToken, variables: { r: [{ __typename: 'User', id: ada.id }] } });
    const insights = stored.data._entities[0].insights as { kind: string; reportId: string }[];
    expect(insights.map((i) => i.kind)).toContain('SPENDING_SPIKE');
    expect(insights.every((i) => i.reportId === report.data.generateReport.id)).toBe(true);
    // Each one, exactly as the query shows it.
    await eventually(async () => (adaSees.results.length >= insights.length ? true : undefined), 10_000, 20);
    expect(adaSees.results.map((r) => r.data.insightCreated)).toEqual(expect.arrayContaining(insights));
    expect(adaSees.results).toHaveLength(insights.length);

    // Generating the period again finds the same insights: nothing new to tell.
    expect((await gql(gatewayUrl, GENERATE, { token: adaToken })).errors).toBeUndefined();
    await new Promise((r) => setTimeout(r, 700));
    expect(adaSees.results).toHaveLength(insights.length);
    expect(bobSees.results).toEqual([]);
    expect([...adaSees.errors, ...bobSees.errors]).toEqual([]);

    // Bob's own report tells Bob, not Ada.
    expect((await gql(gatewayUrl, GENERATE, { token: auth.tokenFor(bob) })).errors).toBeUndefined();
    await eventually(async () => (bobSees.results.length ? true : undefined), 10_000, 20);
    expect(bobSees.results.every((r) => r.data.insightCreated.userId === bob.id)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(adaSees.results).toHaveLength(insights.length);
  });
});
