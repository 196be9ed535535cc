// Live market events through the real gateway: price alert firings to their owner only, and a
// region's movers at most once a second. Real Kafka, Redis, DynamoDB (dynalite), market service,
// ingest worker and gateway.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { createKafkaBus, encodeEvent, type EventBus, type EventPayload } from '@analytica/events';
import { parseGatewayEnv, startGateway } from '@analytica/gateway';
import { createLogger } from '@analytica/logger';
import { buildMarketSchema, parseMarketEnv, startMarketService } from '@analytica/market-subgraph';
import { quoteKey } from '@analytica/market-subgraph/quotes';
import { createRedis } from '@analytica/redis';
import { callerChannel, entityChannel } from '@analytica/redis/live';
import { compose } from '@analytica/schema';
import { printSdl } from '@analytica/subgraph';
import { createTestAuth, eventually, gql, services, uniqueName, type TestAuth } from '@analytica/testing';
import { parseMarketIngestEnv, startMarketIngest } from './index.js';

const logger = createLogger('test', 'silent');
const topicPrefix = `${uniqueName('live')}.`;
const keyPrefix = `${uniqueName('live')}:`;
const tablePrefix = `${uniqueName('live')}_`;
const alice = { id: randomUUID() };
const bob = { id: randomUUID() };

let auth: TestAuth;
let dir: string;
let market: Awaited<ReturnType<typeof startMarketService>>;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let worker: Awaited<ReturnType<typeof startMarketIngest>>;
let bus: EventBus;
let gatewayUrl: string;
const redis = createRedis(services.redisUrl, { keyPrefix });
const raw = createRedis(services.redisUrl);
const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
const clients: Client[] = [];
const stores = { REDIS_URL: services.redisUrl, REDIS_KEY_PREFIX: keyPrefix, DYNAMODB_ENDPOINT: services.dynamoEndpoint, DYNAMODB_TABLE_PREFIX: tablePrefix };

beforeAll(async () => {
  auth = await createTestAuth();
  market = await startMarketService(parseMarketEnv({ PORT: '0', LOG_LEVEL: 'silent', ...auth.env, ...stores }));
  dir = await mkdtemp(path.join(os.tmpdir(), 'market-live-'));
  const composed = compose([{ name: 'market', url: `${market.url}/graphql`, sdl: printSdl(await buildMarketSchema()) }]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  await writeFile(path.join(dir, 'supergraph.graphql'), composed.supergraphSdl);
  gateway = await startGateway(
    parseGatewayEnv({ PORT: '0', LOG_LEVEL: 'silent', ...auth.env, ...stores, SUPERGRAPH_PATH: path.join(dir, 'supergraph.graphql'), SUPERGRAPH_WATCH: 'false' }),
  );
  gatewayUrl = `${gateway.url}/graphql`;
  worker = await startMarketIngest(
    parseMarketIngestEnv({ PORT: '0', LOG_LEVEL: 'silent', ...stores, KAFKA_BROKERS: services.kafkaBrokers, KAFKA_TOPIC_PREFIX: topicPrefix, INGEST_FLUSH_MS: '200' }),
  );
  bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'live-test', prefix: topicPrefix, logger });
  await eventually(async () => ((await fetch(`${worker.url}/ready`)).ok ? true : undefined), 30_000, 200);
  // The producer connects on its first send: do that here, not inside a timed test.
  await publishTicks(tick('WMT', 'US', 90));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await worker?.stop();
  await gateway?.stop();
  await market?.stop();
  await bus?.close();
  await auth?.close();
  await rm(dir, { recursive: true, force: true });
  const keys = await raw.keys(`${keyPrefix}*`);
  if (keys.length) await raw.del(...keys);
  await raw.quit();
  await redis.quit();
  await deleteTablesWithPrefix(dynamo, tablePrefix);
  dynamo.close();
});

let seq = Date.now() * 1000;
type TickPayload = EventPayload<'market.ticks.v1'>;
const tick = (symbol: string, region: 'US' | 'EU' | 'APAC', last: number): TickPayload => ({
  symbol,
  region,
  last,
  bid: Math.round((last - 0.02) * 100) / 100,
  ask: Math.round((last + 0.02) * 100) / 100,
  size: 100,
  exchangeTime: new Date().toISOString(),
  seq: seq++,
  marketState: 'OPEN',
});
const publishTicks = (...ticks: TickPayload[]) => bus.publish('market.ticks.v1', ticks.map((t) => encodeEvent('market.ticks.v1', t.symbol, t)));
const quoteIs = (region: 'US' | 'EU', symbol: string, last: number) =>
  eventually(async () => ((await redis.hget(quoteKey(region, symbol), 'last')) === String(last) ? true : undefined), 10_000, 20);

/** A graphql-ws subscription through the gateway; each result is kept with the time it arrived. */
function subscribe(token: string, query: string, variables: Record<string, unknown> = {}) {
  const client = createClient({ url: gatewayUrl.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
  clients.push(client);
  const results: { at: number; data?: any; errors?: any }[] = [];
  const errors: unknown[] = [];
  client.subscribe({ query, variables }, { next: (r) => void results.push({ at: Date.now(), ...r }), error: (e) => void errors.push(e), complete: () => {} });
  return { results, errors };
}

/** The gateway subscribes to Redis asynchronously: wait until it listens on the channel. */
async function listening(channel: string) {
  await eventually(async () => {
    const [, count] = (await raw.call('PUBSUB', 'NUMSUB', `${keyPrefix}${channel}`)) as [string, number];
    return count > 0 ? true : undefined;
  });
}

const CREATE_ALERT = 'mutation($input: PriceAlertInput!) { createPriceAlert(input: $input) { id } }';
const TRIGGERED = `subscription {
  priceAlertTriggered {
    id symbol direction threshold price triggeredAt
    alert { id threshold lastTriggeredPrice lastTriggeredAt instrument { symbol name quote { symbol } } }
  }
}`;

describe('priceAlertTriggered', () => {
  it("reaches the alert's owner within a second of the crossing tick, and never another user", async () => {
    const aliceToken = auth.tokenFor(alice);
    const bobToken = auth.tokenFor(bob);
    // The worker knows AMD (and that it has no alerts) before the alerts exist, as in production.
    await publishTicks(tick('AMD', 'US', 150));
    await quoteIs('US', 'AMD', 150);
    const mine = await gql(gatewayUrl, CREATE_ALERT, { token: aliceToken, variables: { input: { symbol: 'AMD', direction: 'ABOVE', threshold: 155 } } });
    const theirs = await gql(gatewayUrl, CREATE_ALERT, { token: bobToken, variables: { input: { symbol: 'AMD', direction: 'ABOVE', threshold: 160 } } });
    expect(mine.errors ?? theirs.errors).toBeUndefined();

    const aliceSees = subscribe(aliceToken, TRIGGERED);
    const bobSees = subscribe(bobToken, TRIGGERED);
    await listening(callerChannel('PriceAlertTrigger', alice.id));
    await listening(callerChannel('PriceAlertTrigger', bob.id));

    const crossing = tick('AMD', 'US', 156.5);
    const sentAt = Date.now();
    await publishTicks(crossing);
    await eventually(async () => (aliceSees.results.length ? true : undefined), 5000, 5);
    expect(aliceSees.results[0]!.at - sentAt).toBeLessThan(1000);
    expect(aliceSees.results[0]!.errors).toBeUndefined();
    expect(aliceSees.results[0]!.data.priceAlertTriggered).toEqual({
      id: expect.any(String),
      symbol: 'AMD',
      direction: 'ABOVE',
      threshold: 155,
      price: 156.5,
      triggeredAt: crossing.exchangeTime,
      alert: {
        id: mine.data.createPriceAlert.id,
        threshold: 155,
        lastTriggeredPrice: 156.5,
        lastTriggeredAt: crossing.exchangeTime,
        instrument: { symbol: 'AMD', name: 'Advanced Micro Devices, Inc.', quote: { symbol: 'AMD' } },
      },
    });
    // Anything for Bob would have come with Alice's.
    await new Promise((r) => setTimeout(r, 700));
    expect(bobSees.results).toEqual([]);

    // Bob's own crossing reaches Bob, and Alice (still above her threshold) hears nothing.
    await publishTicks(tick('AMD', 'US', 160.25));
    await eventually(async () => (bobSees.results.length ? true : undefined), 5000, 10);
    expect(bobSees.results[0]!.data.priceAlertTriggered).toMatchObject({ threshold: 160, price: 160.25, alert: { id: theirs.data.createPriceAlert.id } });
    await new Promise((r) => setTimeout(r, 500));
    expect(aliceSees.results).toHaveLength(1);
    expect([...aliceSees.errors, ...bobSees.errors]).toEqual([]);

    // The trigger's key names Alice's alert: straight to the subgraph, Bob is told it does not exist.
    const stolen = await gql(`${market.url}/graphql`, 'query($r: [_Any!]!) { _entities(representations: $r) { ... on PriceAlertTrigger { price alert { id } } } }', {
      token: bobToken,
      variables: { r: [{ __typename: 'PriceAlertTrigger', id: aliceSees.results[0]!.data.priceAlertTriggered.id }] },
    });
    expect(stolen.data?._entities?.[0] ?? null).toBeNull();
    expect(stolen.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('movers', () => {
  const MOVERS = 'subscription { movers(region: EU) { region time gainers(limit: 3) { symbol } losers(limit: 3) { symbol } } }';
  // Around the reference prices the market service seeds (previousClose of the first session).
  const SIEMENS = 185.6;
  const ALLIANZ = 298.5;
  const TELEKOM = 29.8;

  it('starts with the current ranking, then publishes a changed ranking at most once a second (the last change too)', async () => {
    const published: number[] = [];
    const listener = createRedis(services.redisUrl);
    listener.on('message', () => published.push(Date.now()));
    await listener.subscribe(`${keyPrefix}${entityChannel('Movers', 'EU')}`);
    try {
      await publishTicks(tick('DTE.DE', 'EU', TELEKOM * 0.97));
      await quoteIs('EU', 'DTE.DE', TELEKOM * 0.97);
      const sees = subscribe(auth.tokenFor(alice), MOVERS);
      await eventually(async () => (sees.results.length ? true : undefined), 5000, 10);
      expect(sees.results[0]!.data.movers).toMatchObject({ region: 'EU', gainers: [], losers: [{ symbol: 'DTE.DE' }] });
      // Public: a second subscriber of the same selection shares the execution, and gets its latest result at once.
      const executions = async () => Number(/subscription_executions_active\{[^}]*\} (\d+)/.exec(await (await fetch(`${gateway.url}/metrics`)).text())?.[1]);
      const shared = await executions();
      const alsoSees = subscribe(auth.tokenFor(bob), MOVERS);
      await eventually(async () => (alsoSees.results.length ? true : undefined), 5000, 10);
      expect(alsoSees.results[0]!.data).toEqual(sees.results[0]!.data);
      expect(await executions()).toBe(shared);
      await new Promise((r) => setTimeout(r, 1100));
      const before = published.length;
      const deliveredBefore = sees.results.length;

      // 3 seconds of ticks that swap the two leaders every 100 ms: 30 ranking changes.
      const started = Date.now();
      for (let step = 0; step < 30; step++) {
        const siemensLeads = step % 2 === 0;
        await publishTicks(tick('SIE.DE', 'EU', Math.round(SIEMENS * (siemensLeads ? 1.03 : 1.01) * 100) / 100), tick('ALV.DE', 'EU', Math.round(ALLIANZ * (siemensLeads ? 1.01 : 1.03) * 100) / 100));
        await new Promise((r) => setTimeout(r, 100));
      }
      const finalLeader = 'ALV.DE'; // step 29 is odd
      await quoteIs('EU', 'ALV.DE', Math.round(ALLIANZ * 1.03 * 100) / 100);
      const elapsed = Date.now() - started;
      // The last change is published once its second is over.
      await eventually(async () => (sees.results.at(-1)?.data.movers.gainers[0]?.symbol === finalLeader ? true : undefined), 5000, 20);

      const events = published.length - before;
      expect(events).toBeGreaterThanOrEqual(2);
      expect(events).toBeLessThanOrEqual(Math.ceil(elapsed / 1000) + 2);
      // Each ranking delivered carries the time it was published (by the Redis clock, which also
      // times the gate): no two are less than a second apart. Arrival times would not show it, on
      // a machine busy enough to hold a message up in the event loop.
      const times = [...new Set(sees.results.slice(deliveredBefore).map((r) => Date.parse(r.data.movers.time)))];
      expect(times.length).toBeGreaterThanOrEqual(2);
      // (990: the stored times are whole milliseconds.)
      expect(Math.min(...times.slice(1).map((t, i) => t - times[i]!))).toBeGreaterThanOrEqual(990);
      expect(sees.results.at(-1)!.data.movers).toMatchObject({ gainers: [{ symbol: 'ALV.DE' }, { symbol: 'SIE.DE' }], losers: [{ symbol: 'DTE.DE' }] });
      // The gateway delivers what was published, nothing more.
      expect(sees.results.length - deliveredBefore).toBeLessThanOrEqual(events);

      // Prices that leave the ranking as it is publish nothing.
      const quiet = published.length;
      await publishTicks(tick('ALV.DE', 'EU', Math.round(ALLIANZ * 1.04 * 100) / 100), tick('SIE.DE', 'EU', Math.round(SIEMENS * 1.02 * 100) / 100));
      await quoteIs('EU', 'SIE.DE', Math.round(SIEMENS * 1.02 * 100) / 100);
      await new Promise((r) => setTimeout(r, 1500));
      expect(published.length).toBe(quiet);
      expect(sees.errors).toEqual([]);
    } finally {
      listener.disconnect();
    }
  });

  it('refuses a region that does not exist before anything is read', async () => {
    const sees = subscribe(auth.tokenFor(alice), 'subscription { movers(region: MARS) { region } }');
    await eventually(async () => (sees.errors.length ? true : undefined), 5000, 10);
    expect((sees.errors[0] as { extensions?: { code?: string } }[])[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
