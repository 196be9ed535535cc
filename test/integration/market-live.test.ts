// Live market events through the real gateway: price alert firings to their owner only, and a
// region's movers at most once a second. Real Kafka, Redis, DynamoDB (dynalite), market service,
// ingest worker and gateway (market-harness.ts).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { quoteKey } from '@analytica/market-subgraph/store';
import { createRedis } from '@analytica/redis';
import { callerChannel, entityChannel } from '@analytica/redis/live';
import { eventually, gql, services } from '@analytica/testing';
import { startMarketHarness, type MarketHarness } from './market-harness.js';

const alice = { id: randomUUID() };
const bob = { id: randomUUID() };

let h: MarketHarness;
const clients: Client[] = [];

beforeAll(async () => {
  h = await startMarketHarness('live');
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await h?.stop();
});

const quoteIs = (region: 'US' | 'EU', symbol: string, last: number) =>
  eventually(async () => ((await h.redis.hget(quoteKey(region, symbol), 'last')) === String(last) ? true : undefined), 10_000, 20);

/** A graphql-ws subscription through the gateway; each result is kept with the time it arrived. */
function subscribe(token: string, query: string, variables: Record<string, unknown> = {}) {
  const client = createClient({ url: h.gatewayUrl.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
  clients.push(client);
  const results: { at: number; data?: any; errors?: any }[] = [];
  const errors: unknown[] = [];
  client.subscribe({ query, variables }, { next: (r) => void results.push({ at: Date.now(), ...r }), error: (e) => void errors.push(e), complete: () => {} });
  return { results, errors };
}

/** The gateway subscribes to Redis asynchronously: wait until it listens on the channel. */
async function listening(channel: string) {
  await eventually(async () => {
    const [, count] = (await h.raw.call('PUBSUB', 'NUMSUB', `${h.keyPrefix}${channel}`)) as [string, number];
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
    const aliceToken = h.auth.tokenFor(alice);
    const bobToken = h.auth.tokenFor(bob);
    // The worker knows AMD (and that it has no alerts) before the alerts exist, as in production.
    await h.publishTicks(h.tick('AMD', 'US', 150));
    await quoteIs('US', 'AMD', 150);
    const mine = await gql(h.gatewayUrl, CREATE_ALERT, { token: aliceToken, variables: { input: { symbol: 'AMD', direction: 'ABOVE', threshold: 155 } } });
    const theirs = await gql(h.gatewayUrl, CREATE_ALERT, { token: bobToken, variables: { input: { symbol: 'AMD', direction: 'ABOVE', threshold: 160 } } });
    expect(mine.errors ?? theirs.errors).toBeUndefined();

    const aliceSees = subscribe(aliceToken, TRIGGERED);
    const bobSees = subscribe(bobToken, TRIGGERED);
    await listening(callerChannel('PriceAlertTrigger', alice.id));
    await listening(callerChannel('PriceAlertTrigger', bob.id));

    const crossing = h.tick('AMD', 'US', 156.5);
    const sentAt = Date.now();
    await h.publishTicks(crossing);
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
    await h.publishTicks(h.tick('AMD', 'US', 160.25));
    await eventually(async () => (bobSees.results.length ? true : undefined), 5000, 10);
    expect(bobSees.results[0]!.data.priceAlertTriggered).toMatchObject({ threshold: 160, price: 160.25, alert: { id: theirs.data.createPriceAlert.id } });
    await new Promise((r) => setTimeout(r, 500));
    expect(aliceSees.results).toHaveLength(1);
    expect([...aliceSees.errors, ...bobSees.errors]).toEqual([]);

    // The trigger's key names Alice's alert: straight to the subgraph, Bob is told it does not exist.
    const stolen = await gql(`${h.market.url}/graphql`, 'query($r: [_Any!]!) { _entities(representations: $r) { ... on PriceAlertTrigger { price alert { id } } } }', {
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
    await listener.subscribe(`${h.keyPrefix}${entityChannel('Movers', 'EU')}`);
    try {
      await h.publishTicks(h.tick('DTE.DE', 'EU', TELEKOM * 0.97));
      await quoteIs('EU', 'DTE.DE', TELEKOM * 0.97);
      const sees = subscribe(h.auth.tokenFor(alice), MOVERS);
      await eventually(async () => (sees.results.length ? true : undefined), 5000, 10);
      expect(sees.results[0]!.data.movers).toMatchObject({ region: 'EU', gainers: [], losers: [{ symbol: 'DTE.DE' }] });
      // Public: a second subscriber of the same selection shares the execution, and gets its latest result at once.
      const executions = async () => Number(/subscription_executions_active\{[^}]*\} (\d+)/.exec(await (await fetch(`${h.gateway.metricsUrl}/metrics`)).text())?.[1]);
      const shared = await executions();
      const alsoSees = subscribe(h.auth.tokenFor(bob), MOVERS);
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
        await h.publishTicks(
          h.tick('SIE.DE', 'EU', Math.round(SIEMENS * (siemensLeads ? 1.03 : 1.01) * 100) / 100),
          h.tick('ALV.DE', 'EU', Math.round(ALLIANZ * (siemensLeads ? 1.01 : 1.03) * 100) / 100),
        );
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
      await h.publishTicks(h.tick('ALV.DE', 'EU', Math.round(ALLIANZ * 1.04 * 100) / 100), h.tick('SIE.DE', 'EU', Math.round(SIEMENS * 1.02 * 100) / 100));
      await quoteIs('EU', 'SIE.DE', Math.round(SIEMENS * 1.02 * 100) / 100);
      await new Promise((r) => setTimeout(r, 1500));
      expect(published.length).toBe(quiet);
      expect(sees.errors).toEqual([]);
    } finally {
      listener.disconnect();
    }
  });

  it('refuses a region that does not exist before anything is read', async () => {
    const sees = subscribe(h.auth.tokenFor(alice), 'subscription { movers(region: MARS) { region } }');
    await eventually(async () => (sees.errors.length ? true : undefined), 5000, 10);
    expect((sees.errors[0] as { extensions?: { code?: string } }[])[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
