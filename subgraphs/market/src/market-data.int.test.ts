import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchWrite, createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { createRedis, type Redis } from '@analytica/redis';
import { createTcpProxy, createTestAuth, gql, services, uniqueName, type TestAuth } from '@analytica/testing';
import { venueStatus } from '@analytica/instruments';
import { parseMarketEnv, startMarketService } from './index.js';
import { candleKey } from './store/candles.js';
import { alertIndexKey, moversKey, quoteKey } from './store/redis-keys.js';

const keyPrefix = `${uniqueName('market_data')}:`;
const tablePrefix = `${uniqueName('market_data')}_`;
const alice = { id: 'a5e0c1d2-0000-4000-8000-000000000011' };
const bob = { id: 'b0b0c1d2-0000-4000-8000-000000000012' };

let auth: TestAuth;
let redis: Redis;
let marketRedis: Redis;
let redisProxy: Awaited<ReturnType<typeof createTcpProxy>>;
let service: Awaited<ReturnType<typeof startMarketService>>;
let url: string;
const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });

beforeAll(async () => {
  auth = await createTestAuth();
  const target = new URL(services.redisUrl);
  // The service reads market data through a proxy, so that a test can take that Redis away from
  // it alone; token revocation checks keep their own connection (they fail closed without Redis).
  redisProxy = await createTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
  marketRedis = createRedis(`redis://127.0.0.1:${redisProxy.port}`, { keyPrefix });
  service = await startMarketService(
    parseMarketEnv({
      PORT: '0',
      LOG_LEVEL: 'silent',
      ...auth.env,
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: keyPrefix,
      DYNAMODB_ENDPOINT: services.dynamoEndpoint,
      DYNAMODB_TABLE_PREFIX: tablePrefix,
    }),
    { redis: marketRedis },
  );
  url = `${service.url}/graphql`;
  redis = createRedis(services.redisUrl, { keyPrefix });
});

afterAll(async () => {
  await service?.stop();
  marketRedis?.disconnect();
  await redisProxy?.close();
  const raw = createRedis(services.redisUrl);
  const left = await raw.keys(`${keyPrefix}*`);
  if (left.length) await raw.del(...left);
  await raw.quit();
  await redis?.quit();
  await deleteTablesWithPrefix(dynamo, tablePrefix);
  dynamo.close();
  await auth?.close();
});

const asAlice = (query: string, variables?: Record<string, unknown>) => gql(url, query, { token: auth.tokenFor(alice), variables });
const asBob = (query: string, variables?: Record<string, unknown>) => gql(url, query, { token: auth.tokenFor(bob), variables });
const ALERTS = `query($id: ID!) { _entities(representations: [{ __typename: "User", id: $id }]) { ... on User { priceAlerts { id symbol direction threshold instrument { name } } } } }`;
const CREATE = 'mutation($input: PriceAlertInput!) { createPriceAlert(input: $input) { id symbol direction threshold createdAt lastTriggeredAt } }';

const minute = (iso: string) => Date.parse(iso);
const candle = (pk: string, at: string, open: number, high: number, low: number, close: number, volume: number, seq: number) => ({
  PutRequest: { Item: { pk, bucket: minute(at), open, high, low, close, volume, trades: 3, lastSeq: seq, lastTime: at } },
});

describe('candles', () => {
  beforeAll(async () => {
    const pk = candleKey('US', 'AAPL', '1m');
    await batchWrite(dynamo, `${tablePrefix}candles`, [
      candle(pk, '2026-11-02T14:30:00.000Z', 228.5, 229, 228.1, 228.9, 1200, 3),
      candle(pk, '2026-11-02T14:31:00.000Z', 228.9, 229.4, 228.7, 229.2, 800, 6),
      candle(pk, '2026-11-02T14:32:00.000Z', 229.2, 229.3, 228.6, 228.8, 500, 9),
      candle(candleKey('US', 'MSFT', '1m'), '2026-11-02T14:31:00.000Z', 1, 1, 1, 1, 1, 1),
    ]);
  });

  it('lists the candles of one instrument and interval whose bucket starts in the range, oldest first', async () => {
    const result = await asAlice(
      '{ candles(symbol: "aapl", interval: "1m", from: "2026-11-02T14:30:30Z", to: "2026-11-02T14:31:59Z") { symbol interval start open high low close volume trades } }',
    );
    expect(result.errors).toBeUndefined();
    expect(result.data.candles).toEqual([
      { symbol: 'AAPL', interval: '1m', start: '2026-11-02T14:30:00.000Z', open: 228.5, high: 229, low: 228.1, close: 228.9, volume: 1200, trades: 3 },
      { symbol: 'AAPL', interval: '1m', start: '2026-11-02T14:31:00.000Z', open: 228.9, high: 229.4, low: 228.7, close: 229.2, volume: 800, trades: 3 },
    ]);
  });

  it('refuses an unknown symbol or interval and a reversed or too long range, naming the argument', async () => {
    const cases: [string, string][] = [
      ['{ candles(symbol: "NOPE", interval: "1m", from: "2026-11-02T14:00:00Z", to: "2026-11-02T15:00:00Z") { open } }', 'symbol'],
      ['{ candles(symbol: "AAPL", interval: "2m", from: "2026-11-02T14:00:00Z", to: "2026-11-02T15:00:00Z") { open } }', 'interval'],
      ['{ candles(symbol: "AAPL", interval: "1m", from: "2026-11-02T15:00:00Z", to: "2026-11-02T14:00:00Z") { open } }', 'to'],
      ['{ candles(symbol: "AAPL", interval: "1m", from: "2026-11-01T00:00:00Z", to: "2026-11-02T15:00:00Z") { open } }', 'from'],
    ];
    for (const [query, field] of cases) {
      const result = await asAlice(query);
      expect(result.errors?.[0]?.extensions, query).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
  });
});

describe('movers', () => {
  beforeAll(async () => {
    const quotes: [string, number][] = [
      ['SAP.DE', 2.5],
      ['ASML.AS', -3.1],
      ['SIE.DE', 1.2],
      ['NESN.SW', -0.4],
      ['HSBA.L', 0],
    ];
    for (const [symbol, pct] of quotes) {
      await redis.hset(quoteKey('EU', symbol), { last: String(100 + pct), previousClose: '100', marketState: 'OPEN' });
      await redis.zadd(moversKey('EU'), pct, symbol);
    }
  });

  it('ranks the gainers and the losers of a region from its sorted set, each with its quote', async () => {
    const gainers = await asAlice('{ movers(region: "eu", limit: 5) { symbol changePercent } }');
    expect(gainers.errors).toBeUndefined();
    expect(gainers.data.movers).toEqual([
      { symbol: 'SAP.DE', changePercent: 2.5 },
      { symbol: 'SIE.DE', changePercent: 1.2 },
    ]);
    const losers = await asAlice('{ movers(region: "EU", direction: LOSERS, limit: 1) { symbol changePercent } }');
    expect(losers.data.movers).toEqual([{ symbol: 'ASML.AS', changePercent: -3.1 }]);
  });

  it('refuses an unknown region or a limit out of range, naming the argument', async () => {
    expect((await asAlice('{ movers(region: "MARS") { symbol } }')).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'region' });
    expect((await asAlice('{ movers(region: "US", limit: 51) { symbol } }')).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'limit' });
  });
});

describe('price alerts', () => {
  let aliceAlert: string;

  it('creates alerts, lists them oldest first and indexes them by symbol for the ingest worker', async () => {
    const above = await asAlice(CREATE, { input: { symbol: 'nvda', direction: 'ABOVE', threshold: 150.5 } });
    expect(above.errors).toBeUndefined();
    expect(above.data.createPriceAlert).toMatchObject({ symbol: 'NVDA', direction: 'ABOVE', threshold: 150.5, lastTriggeredAt: null });
    aliceAlert = above.data.createPriceAlert.id;
    await asAlice(CREATE, { input: { symbol: 'SAP.DE', direction: 'BELOW', threshold: 200 } });

    const listed = await asAlice(ALERTS, { id: alice.id });
    expect(listed.data._entities[0].priceAlerts.map((a: { symbol: string }) => a.symbol)).toEqual(['NVDA', 'SAP.DE']);
    expect(listed.data._entities[0].priceAlerts[0].instrument).toEqual({ name: 'NVIDIA Corporation' });
    const index = await redis.hgetall(alertIndexKey('US', 'NVDA'));
    expect(JSON.parse(index[aliceAlert]!)).toEqual({ userId: alice.id, direction: 'ABOVE', threshold: 150.5 });
  });

  it('refuses an unknown symbol and a threshold that is not a positive price, naming the input field', async () => {
    const unknown = await asAlice(CREATE, { input: { symbol: 'NOPE', direction: 'ABOVE', threshold: 1 } });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.symbol' });
    const negative = await asAlice(CREATE, { input: { symbol: 'AAPL', direction: 'BELOW', threshold: -5 } });
    expect(negative.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.threshold' });
  });

  it("keeps one user's alerts from another: listing, _entities and deleting all refuse", async () => {
    const listed = await asBob(ALERTS, { id: alice.id });
    expect(listed.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(listed.data?._entities?.[0]?.priceAlerts).toBeUndefined();
    const entity = await asBob(`{ _entities(representations: [{ __typename: "PriceAlert", id: "${aliceAlert}" }]) { ... on PriceAlert { threshold } } }`);
    expect(entity.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(JSON.stringify(entity.data)).not.toContain('150.5');
    const deleted = await asBob('mutation($id: ID!) { deletePriceAlert(id: $id) { id } }', { id: aliceAlert });
    expect(deleted.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await redis.hget(alertIndexKey('US', 'NVDA'), aliceAlert)).not.toBeNull();
    const own = await asAlice(`{ _entities(representations: [{ __typename: "PriceAlert", id: "${aliceAlert}" }]) { ... on PriceAlert { threshold } } }`);
    expect(own.data._entities).toEqual([{ threshold: 150.5 }]);
  });

  it('deletes an alert from the list and from the index', async () => {
    const deleted = await asAlice('mutation($id: ID!) { deletePriceAlert(id: $id) { id symbol } }', { id: aliceAlert });
    expect(deleted.data.deletePriceAlert).toEqual({ id: aliceAlert, symbol: 'NVDA' });
    expect(await redis.hget(alertIndexKey('US', 'NVDA'), aliceAlert)).toBeNull();
    const listed = await asAlice(ALERTS, { id: alice.id });
    expect(listed.data._entities[0].priceAlerts.map((a: { symbol: string }) => a.symbol)).toEqual(['SAP.DE']);
  });

  it('puts stored alerts back into the index when a service starts, after Redis lost them', async () => {
    const [entry] = Object.keys(await redis.hgetall(alertIndexKey('EU', 'SAP.DE')));
    await redis.del(alertIndexKey('EU', 'SAP.DE'));
    const second = await startMarketService(
      parseMarketEnv({
        PORT: '0',
        LOG_LEVEL: 'silent',
        ...auth.env,
        REDIS_URL: services.redisUrl,
        REDIS_KEY_PREFIX: keyPrefix,
        DYNAMODB_ENDPOINT: services.dynamoEndpoint,
        DYNAMODB_TABLE_PREFIX: tablePrefix,
      }),
    );
    await second.stop();
    expect(Object.keys(await redis.hgetall(alertIndexKey('EU', 'SAP.DE')))).toEqual([entry]);
  });
});

describe('without a token', () => {
  it('refuses candles, movers and every alert operation', async () => {
    const queries = [
      '{ candles(symbol: "AAPL", interval: "1m", from: "2026-11-02T14:00:00Z") { open } }',
      '{ movers(region: "US") { symbol } }',
      'mutation { createPriceAlert(input: { symbol: "AAPL", direction: ABOVE, threshold: 1 }) { id } }',
      'mutation { deletePriceAlert(id: "x") { id } }',
      `{ _entities(representations: [{ __typename: "User", id: "${alice.id}" }]) { ... on User { priceAlerts { id } } } }`,
      '{ _entities(representations: [{ __typename: "PriceAlert", id: "x" }]) { ... on PriceAlert { id } } }',
    ];
    for (const query of queries) {
      const result = await gql(url, query);
      expect(result.errors?.[0]?.extensions?.code, query).toBe('UNAUTHENTICATED');
    }
  });
});

describe('with Redis down', () => {
  it('answers quotes from the last daily candles in DynamoDB, marked stale, and live again once Redis is back', async () => {
    const daily = candleKey('EU', 'SAP.DE', '1d');
    await batchWrite(dynamo, `${tablePrefix}candles`, [
      candle(daily, '2026-10-30T00:00:00.000Z', 230, 233, 229, 232, 1_000_000, 10),
      {
        PutRequest: {
          Item: {
            pk: daily,
            bucket: minute('2026-11-02T00:00:00.000Z'),
            open: 232.5,
            high: 236,
            low: 231,
            close: 235.2,
            volume: 400_000,
            trades: 900,
            lastSeq: 20,
            lastTime: '2026-11-02T16:29:59.500Z',
          },
        },
      },
    ]);
    await redis.hset(quoteKey('EU', 'SAP.DE'), { last: '240', previousClose: '235.2', marketState: 'OPEN' });
    const query = '{ quotes(symbols: ["SAP.DE", "AAPL", "BTC-USD"]) { symbol last open high low previousClose change changePercent volume time marketState stale } }';
    expect((await asAlice(query)).data.quotes[0]).toMatchObject({ last: 240, stale: false, marketState: 'OPEN' });

    redisProxy.cut();
    try {
      const started = Date.now();
      const stale = await asAlice(query);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(stale.errors).toBeUndefined();
      // Nothing live says whether a venue trades: its state is the scheduled one.
      expect(stale.data.quotes[0]).toEqual({
        symbol: 'SAP.DE',
        last: 235.2,
        open: 232.5,
        high: 236,
        low: 231,
        previousClose: 232,
        change: 3.2,
        changePercent: 1.3793,
        volume: 400_000,
        time: '2026-11-02T16:29:59.500Z',
        marketState: venueStatus('XETR', new Date()).state,
        stale: true,
      });
      // No candle at all: the reference price, still marked stale, and no trade time.
      expect(stale.data.quotes[1]).toMatchObject({ symbol: 'AAPL', last: 228.5, change: 0, time: null, stale: true });
      // A pair that trades around the clock is not reported closed because the cache is away.
      expect(stale.data.quotes[2]).toMatchObject({ symbol: 'BTC-USD', last: 92_500, time: null, marketState: 'OPEN', stale: true });
      const single = await asAlice('{ quote(symbol: "SAP.DE") { last stale } }');
      expect(single.data.quote).toEqual({ last: 235.2, stale: true });
    } finally {
      redisProxy.restore();
    }
    await expect.poll(async () => (await asAlice(query)).data?.quotes?.[0]?.stale, { timeout: 15_000, interval: 200 }).toBe(false);
  });
});
