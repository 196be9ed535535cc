// Market ingest end to end: ticks produced to Kafka become quotes (read through the real gateway,
// and published live), movers, price alerts and dead letters. Real Kafka, Redis, DynamoDB
// (dynalite), market service, ingest worker and gateway (market-harness.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { GetCommand } from '@analytica/dynamo';
import { deadLetterTopic, encodeEvent, HEADER, type ReceivedMessage } from '@analytica/events';
import { venueStatus } from '@analytica/instruments';
import { quoteChannel, quoteKey } from '@analytica/market-subgraph/store';
import { createRedis } from '@analytica/redis';
import { eventually, gql, services, uniqueName } from '@analytica/testing';
import { startMarketHarness, type MarketHarness } from './market-harness.js';

const alice = { id: 'a5e0c1d2-0000-4000-8000-000000000021' };

let h: MarketHarness;

beforeAll(async () => {
  h = await startMarketHarness('ingest');
});

afterAll(async () => {
  await h?.stop();
});

const QUOTE = 'query($s: String!) { quote(symbol: $s) { symbol currency last bid ask open high low previousClose change changePercent volume time marketState stale } }';

/** Everything that reaches a topic from now on. */
async function collect(topic: string) {
  const seen: ReceivedMessage[] = [];
  const consumer = await h.bus.consume({ groupId: uniqueName('watch'), topics: [topic], handle: async (m) => void seen.push(m) });
  return { seen, stop: () => consumer.stop() };
}

describe('market ingest', () => {
  it('shows a tick produced to Kafka in quote(symbol) through the gateway within a second', async () => {
    const token = h.auth.tokenFor(alice);
    const before = await gql(h.gatewayUrl, QUOTE, { token, variables: { s: 'MSFT' } });
    // The reference seed: no trade yet, so no time, and the venue's state by its hours.
    expect(before.data.quote).toMatchObject({ last: 415.2, time: null, marketState: venueStatus('XNAS', new Date()).state, stale: false });

    const sent = h.tick('MSFT', 'US', 417.35, { size: 300 });
    const started = Date.now();
    await h.publishTicks(sent);
    const seen = await eventually(
      async () => {
        const result = await gql(h.gatewayUrl, QUOTE, { token, variables: { s: 'MSFT' } });
        return result.data?.quote?.last === 417.35 ? result.data.quote : undefined;
      },
      5000,
      10,
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(1000);
    expect(seen).toEqual({
      symbol: 'MSFT',
      currency: 'USD',
      last: 417.35,
      bid: 417.33,
      ask: 417.37,
      open: 417.35,
      high: 417.35,
      low: 417.35,
      previousClose: 415.2,
      change: 2.15,
      changePercent: 0.5178,
      volume: 300,
      time: sent.exchangeTime,
      marketState: 'OPEN',
      stale: false,
    });
  });

  it("publishes quote changes on the symbol's channel as the Quote entity the subgraph serves (one message per batch)", async () => {
    const subscriber = createRedis(services.redisUrl);
    const messages: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => messages.push(message));
    await subscriber.subscribe(h.keyPrefix + quoteChannel('SAP.DE'));
    try {
      await h.publishTicks(h.tick('SAP.DE', 'EU', 233.1), h.tick('SAP.DE', 'EU', 233.4, { size: 50 }));
      await eventually(async () => (messages.some((m) => JSON.parse(m).last === 233.4) ? true : undefined), 5000, 20);
      const latest = JSON.parse(messages.at(-1)!);
      const served = await gql(h.gatewayUrl, QUOTE, { token: h.auth.tokenFor(alice), variables: { s: 'SAP.DE' } });
      expect(latest).toEqual({ __typename: 'Quote', ...served.data.quote });
      expect(latest).toMatchObject({ last: 233.4, high: 233.4, low: 233.1, volume: 150 });
    } finally {
      subscriber.disconnect();
    }
  });

  it('reaches a graphql-ws subscriber of quotes(symbols) through the gateway, instrument fetched per event', async () => {
    const client = createClient({
      url: h.gatewayUrl.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${h.auth.tokenFor(alice)}` },
      retryAttempts: 0,
    });
    const received: { symbol: string; last: number; stale: boolean; instrument: { name: string } }[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const stop = client.subscribe(
        { query: 'subscription { quotes(symbols: ["JPM", "V"]) { symbol last stale instrument { name } } }' },
        {
          next: (result) => {
            if (result.errors) reject(new Error(JSON.stringify(result.errors)));
            received.push((result.data as { quotes: (typeof received)[number] }).quotes);
            if (received.some((q) => q.symbol === 'V' && q.last === 301.5)) {
              stop();
              resolve();
            }
          },
          error: reject,
          complete: () => {},
        },
      );
    });
    try {
      // The subscription is in place once the gateway listens; publish until an event arrives.
      await eventually(
        async () => {
          await h.publishTicks(h.tick('V', 'US', 301.5));
          await new Promise((r) => setTimeout(r, 300));
          return received.length ? true : undefined;
        },
        10_000,
        0,
      );
      await done;
      expect(received.at(-1)).toEqual({ symbol: 'V', last: 301.5, stale: false, instrument: { name: 'Visa Inc.' } });
    } finally {
      await client.dispose();
    }
  });

  it('ranks movers from the quotes it writes', async () => {
    await h.publishTicks(h.tick('NESN.SW', 'EU', 90), h.tick('ASML.AS', 'EU', 600));
    const movers = await eventually(
      async () => {
        const result = await gql(h.gatewayUrl, '{ gainers: movers(region: "EU") { symbol } losers: movers(region: "EU", direction: LOSERS) { symbol } }', {
          token: h.auth.tokenFor(alice),
        });
        return result.data?.losers?.some((q: { symbol: string }) => q.symbol === 'ASML.AS') ? result.data : undefined;
      },
      5000,
      50,
    );
    expect(movers.gainers.map((q: { symbol: string }) => q.symbol)).toContain('NESN.SW');
  });

  it('fires a price alert exactly once per crossing, also when the crossing tick is delivered again, and not once deleted', async () => {
    const token = h.auth.tokenFor(alice);
    // The worker has already read (and keeps) NVDA's alerts, none yet, when the alert is created.
    await h.publishTicks(h.tick('NVDA', 'US', 136));
    await eventually(async () => ((await h.redis.hget(quoteKey('US', 'NVDA'), 'last')) === '136' ? true : undefined), 5000, 20);
    const created = await gql(h.gatewayUrl, 'mutation { createPriceAlert(input: { symbol: "NVDA", direction: ABOVE, threshold: 140 }) { id } }', { token });
    expect(created.errors).toBeUndefined();
    const alertId = created.data.createPriceAlert.id as string;
    const alerts = await collect('market.price-alert.v1');
    try {
      const path = [138, 139.5, 140.2, 141, 139, 138.5, 140, 142, 141];
      const ticks = path.map((last) => h.tick('NVDA', 'US', last));
      await h.publishTicks(...ticks.slice(0, 4));
      // The crossing tick again, as a redelivery or a producer retry would bring it.
      await h.publishTicks(ticks[2]!, ...ticks.slice(4));
      await eventually(
        async () => {
          const result = await gql(h.gatewayUrl, QUOTE, { token, variables: { s: 'NVDA' } });
          return result.data?.quote?.last === 141 ? true : undefined;
        },
        5000,
        20,
      );
      await eventually(async () => (alerts.seen.length >= 2 ? true : undefined), 10_000, 50);
      // Anything more would have arrived by now: the quote already shows the last tick.
      await new Promise((r) => setTimeout(r, 500));
      const events = alerts.seen.map((m) => ({ key: m.key, id: m.headers[HEADER.id], ...JSON.parse(m.value) }));
      expect(events.map(({ alertId: a, userId, price, direction, threshold, key }) => ({ a, userId, price, direction, threshold, key }))).toEqual([
        { a: alertId, userId: alice.id, price: 140.2, direction: 'ABOVE', threshold: 140, key: alice.id },
        { a: alertId, userId: alice.id, price: 140, direction: 'ABOVE', threshold: 140, key: alice.id },
      ]);
      expect(events[0].triggeredAt).toBe(ticks[2]!.exchangeTime);
      expect(new Set(events.map((e) => e.id)).size).toBe(2);
      const stored = await h.dynamo.doc.send(new GetCommand({ TableName: `${h.tablePrefix}price_alerts`, Key: { userId: alice.id, alertId } }));
      expect(stored.Item).toMatchObject({ lastTriggeredPrice: 140, lastTriggeredAt: ticks[6]!.exchangeTime });

      const deleted = await gql(h.gatewayUrl, 'mutation($id: ID!) { deletePriceAlert(id: $id) { id } }', { token, variables: { id: alertId } });
      expect(deleted.errors).toBeUndefined();
      await h.publishTicks(h.tick('NVDA', 'US', 139), h.tick('NVDA', 'US', 140.5));
      await eventually(async () => ((await h.redis.hget(quoteKey('US', 'NVDA'), 'last')) === '140.5' ? true : undefined), 5000, 20);
      await new Promise((r) => setTimeout(r, 500));
      expect(alerts.seen).toHaveLength(2);
    } finally {
      await alerts.stop();
    }
  });

  it('sends a malformed tick to the dead-letter topic with the reason, and still applies the next tick', async () => {
    const dead = await collect(deadLetterTopic('market.ticks.v1'));
    try {
      await h.bus.publish('market.ticks.v1', [
        {
          key: 'AAPL',
          value: JSON.stringify({ symbol: 'AAPL', region: 'US', last: -3, bid: 1, ask: 1, size: 1, exchangeTime: new Date().toISOString(), seq: h.nextSeq() }),
          headers: {},
        },
        { key: 'AAPL', value: 'not json at all', headers: {} },
        encodeEvent('market.ticks.v1', 'AAPL', h.tick('AAPL', 'US', 229.99)),
      ]);
      await eventually(async () => (dead.seen.length >= 2 ? true : undefined), 10_000, 50);
      expect(dead.seen.map((m) => m.headers[HEADER.reason])).toEqual(['malformed message: last: Too small: expected number to be >0', 'malformed message: not JSON']);
      expect(dead.seen.every((m) => m.headers[HEADER.sourceTopic] === 'market.ticks.v1')).toBe(true);
      expect(dead.seen[1]!.value).toBe('not json at all');
      const quote = await eventually(
        async () => {
          const fields = await h.redis.hgetall(quoteKey('US', 'AAPL'));
          return fields.last === '229.99' ? fields : undefined;
        },
        5000,
        20,
      );
      expect(quote.marketState).toBe('OPEN');
    } finally {
      await dead.stop();
    }
  });

  it('serves /health, /ready and its metrics', async () => {
    expect((await fetch(`${h.worker.url}/health`)).status).toBe(200);
    expect(await (await fetch(`${h.worker.url}/ready`)).json()).toMatchObject({ status: 'ready', checks: { redis: 'ok', dynamodb: 'ok', kafka: 'ok' } });
    const metrics = await (await fetch(`${h.worker.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/market_ingest_ticks_total\{outcome="applied",service="market-ingest"\} \d+/);
    expect(metrics).toMatch(/market_ingest_ticks_total\{outcome="dead_letter",service="market-ingest"\} 2/);
  });
});
