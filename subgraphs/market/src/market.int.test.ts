import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenIssuer } from '@analytica/auth';
import { BatchWriteCommand, GetCommand, createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { createRedis, Redis } from '@analytica/redis';
import { AUDIENCE, createTestAuth, gql, ISSUER, services, uniqueName, type TestAuth } from '@analytica/testing';
import { nextOpen, readReferenceFile, venueStatus } from '@analytica/instruments';
import { parseMarketEnv, startMarketService } from './index.js';
import { quoteKey } from './store/redis-keys.js';

const keyPrefix = `${uniqueName('market')}:`;
const tablePrefix = `${uniqueName('market')}_`;
const alice = { id: 'a5e0c1d2-0000-4000-8000-000000000001' };
const bob = { id: 'b0b0c1d2-0000-4000-8000-000000000002' };

let auth: TestAuth;
let redis: Redis;
let service: Awaited<ReturnType<typeof startMarketService>>;
let url: string;
const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });

const envFor = () =>
  parseMarketEnv({
    PORT: '0',
    LOG_LEVEL: 'silent',
    ...auth.env,
    REDIS_URL: services.redisUrl,
    REDIS_KEY_PREFIX: keyPrefix,
    DYNAMODB_ENDPOINT: services.dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: tablePrefix,
  });

beforeAll(async () => {
  auth = await createTestAuth();
  // Injected so that the test can watch the very socket the service talks to Redis through.
  redis = createRedis(services.redisUrl, { keyPrefix });
  service = await startMarketService(envFor(), { redis });
  url = `${service.url}/graphql`;
});

afterAll(async () => {
  await service?.stop();
  const raw = createRedis(services.redisUrl);
  const keys = await raw.keys(`${keyPrefix}*`);
  if (keys.length) await raw.del(...keys);
  await raw.quit();
  await redis?.quit();
  await deleteTablesWithPrefix(dynamo, tablePrefix);
  dynamo.close();
  await auth?.close();
});

const asAlice = (query: string, variables?: Record<string, unknown>) => gql(url, query, { token: auth.tokenFor(alice), variables });
const asBob = (query: string, variables?: Record<string, unknown>) => gql(url, query, { token: auth.tokenFor(bob), variables });
const WATCHLIST = `query($id: ID!) { _entities(representations: [{ __typename: "User", id: $id }]) { ... on User { watchlist { symbol } } } }`;
const watchlistOf = async (token: string, id: string) => {
  const result = await gql(url, WATCHLIST, { token, variables: { id } });
  return { result, symbols: result.data?._entities?.[0]?.watchlist?.map((i: { symbol: string }) => i.symbol) as string[] | undefined };
};

/** Counts writes on the service's Redis socket: one pipeline is one write, one command alone is one write too. */
async function countRedisWrites<T>(run: () => Promise<T>): Promise<{ value: T; writes: number }> {
  const socket = (redis as unknown as { stream: Socket }).stream;
  const original = socket.write;
  let writes = 0;
  socket.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
    writes++;
    return original.apply(this, args);
  } as Socket['write'];
  try {
    return { value: await run(), writes };
  } finally {
    socket.write = original;
  }
}

describe('market service', () => {
  it("seeds a quote at the reference price under the region-and-symbol key, with no trade time and the venue's scheduled state", async () => {
    // The seed was written when the service started, a moment ago: Tokyo's state by its hours then.
    const scheduled = venueStatus('XTKS', new Date()).state;
    const raw = createRedis(services.redisUrl);
    try {
      expect(await raw.hget(`${keyPrefix}quote:{APAC:7203.T}`, 'marketState')).toBe(scheduled);
    } finally {
      await raw.quit();
    }
    const result = await asAlice('{ quote(symbol: "7203.t") { symbol currency last previousClose change changePercent marketState time instrument { name region } } }');
    expect(result.errors).toBeUndefined();
    expect(result.data.quote).toMatchObject({ symbol: '7203.T', currency: 'JPY', last: 2850, change: 0, changePercent: 0, marketState: scheduled, time: null });
    expect(result.data.quote.instrument).toEqual({ name: 'Toyota Motor Corporation', region: 'APAC' });
  });

  it("tells an instrument's scheduled market state and next open: none for a pair that never closes", async () => {
    const result = await asAlice('{ btc: instrument(symbol: "BTC-USD") { marketState nextOpen } aapl: instrument(symbol: "AAPL") { marketState nextOpen } }');
    expect(result.errors).toBeUndefined();
    expect(result.data.btc).toEqual({ marketState: 'OPEN', nextOpen: null });
    const now = new Date();
    expect(result.data.aapl).toEqual({ marketState: venueStatus('XNAS', now).state, nextOpen: nextOpen('XNAS', now)?.toISOString() ?? null });
  });

  it('answers quotes for a list of symbols with one Redis round trip, in the order asked', async () => {
    await redis.hset(quoteKey('US', 'MSFT'), { last: '420.2', previousClose: '415.2', marketState: 'OPEN', volume: '1200' });
    const symbols = ['AAPL', 'MSFT', 'SAP.DE', '7203.T', '0700.HK', 'HSBA.L', 'NESN.SW', 'BHP.AX', 'AAPL', 'NVDA'];
    const monitor = await createRedis(services.redisUrl).monitor();
    const seen: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() === 'hgetall' && args[1]?.startsWith(keyPrefix)) seen.push(args[1].slice(keyPrefix.length));
    });
    try {
      const { value: result, writes } = await countRedisWrites(() =>
        asAlice('query($s: [String!]!) { quotes(symbols: $s) { symbol last change marketState instrument { symbol quote { volume } } } }', { s: symbols }),
      );
      expect(result.errors).toBeUndefined();
      expect(result.data.quotes.map((q: { symbol: string }) => q.symbol)).toEqual(symbols);
      expect(result.data.quotes[1]).toMatchObject({ last: 420.2, change: 5, marketState: 'OPEN', instrument: { quote: { volume: 1200 } } });
      expect(writes).toBe(1);
      // The one write carried a read of every distinct symbol: nothing is served from a cache.
      await expect.poll(() => seen.length).toBe(9);
      expect(new Set(seen)).toEqual(
        new Set([
          'quote:{US:AAPL}',
          'quote:{US:MSFT}',
          'quote:{EU:SAP.DE}',
          'quote:{APAC:7203.T}',
          'quote:{APAC:0700.HK}',
          'quote:{EU:HSBA.L}',
          'quote:{EU:NESN.SW}',
          'quote:{APAC:BHP.AX}',
          'quote:{US:NVDA}',
        ]),
      );
    } finally {
      monitor.disconnect();
    }
  });

  it('refuses more than 50 symbols, naming symbols', async () => {
    const result = await asAlice('query($s: [String!]!) { quotes(symbols: $s) { last } }', { s: Array.from({ length: 51 }, () => 'AAPL') });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'symbols' });
  });

  it('refuses an unknown symbol, naming the argument and the symbol', async () => {
    const one = await asAlice('{ quote(symbol: "NOPE") { last } }');
    expect(one.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'symbol' } });
    expect(one.errors?.[0]?.message).toContain('NOPE');
    const list = await asAlice('{ quotes(symbols: ["AAPL", "NOPE2"]) { last } }');
    expect(list.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'symbols' } });
    expect(list.errors?.[0]?.message).toContain('NOPE2');
    const instrument = await asAlice('{ instrument(symbol: "NOPE3") { name } }');
    expect(instrument.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'symbol' } });
  });

  it('finds instruments by symbol, name, region and sector, with their quotes', async () => {
    const byName = await asAlice('{ searchInstruments(query: "toyota") { symbol exchange region currency sector quote { last } } }');
    expect(byName.data.searchInstruments[0]).toEqual({
      symbol: '7203.T',
      exchange: 'XTKS',
      region: 'APAC',
      currency: 'JPY',
      sector: 'Consumer Discretionary',
      quote: { last: 2850 },
    });
    const filtered = await asAlice('{ searchInstruments(region: EU, sector: "Utilities", first: 3) { region sector } }');
    expect(filtered.data.searchInstruments).toHaveLength(3);
    for (const i of filtered.data.searchInstruments) expect(i).toEqual({ region: 'EU', sector: 'Utilities' });
    const tooMany = await asAlice('{ searchInstruments(query: "a", first: 500) { symbol } }');
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('adds, removes and reorders a watchlist and keeps the chosen order', async () => {
    for (const symbol of ['AAPL', 'sap.de', '7203.T', 'MSFT', 'AAPL']) {
      const added = await asAlice('mutation($s: String!) { addToWatchlist(symbol: $s) { symbol } }', { s: symbol });
      expect(added.errors).toBeUndefined();
    }
    expect((await watchlistOf(auth.tokenFor(alice), alice.id)).symbols).toEqual(['AAPL', 'SAP.DE', '7203.T', 'MSFT']);

    const removed = await asAlice('mutation { removeFromWatchlist(symbol: "SAP.DE") { symbol } }');
    expect(removed.data.removeFromWatchlist.map((i: { symbol: string }) => i.symbol)).toEqual(['AAPL', '7203.T', 'MSFT']);

    const reordered = await asAlice('mutation { reorderWatchlist(symbols: ["MSFT", "AAPL", "7203.T"]) { symbol quote { last } } }');
    expect(reordered.errors).toBeUndefined();
    expect(reordered.data.reorderWatchlist.map((i: { symbol: string }) => i.symbol)).toEqual(['MSFT', 'AAPL', '7203.T']);
    expect((await watchlistOf(auth.tokenFor(alice), alice.id)).symbols).toEqual(['MSFT', 'AAPL', '7203.T']);

    const added = await asAlice('mutation { addToWatchlist(symbol: "NVDA") { symbol } }');
    expect(added.data.addToWatchlist.map((i: { symbol: string }) => i.symbol)).toEqual(['MSFT', 'AAPL', '7203.T', 'NVDA']);
  });

  it('refuses a reorder that is not a permutation of the watchlist, and an unknown symbol to add', async () => {
    const missing = await asAlice('mutation { reorderWatchlist(symbols: ["MSFT", "AAPL"]) { symbol } }');
    expect(missing.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'symbols' });
    const repeated = await asAlice('mutation { reorderWatchlist(symbols: ["MSFT", "MSFT", "AAPL", "7203.T", "NVDA"]) { symbol } }');
    expect(repeated.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'symbols' });
    const unknown = await asAlice('mutation { addToWatchlist(symbol: "NOPE") { symbol } }');
    expect(unknown.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'symbol' } });
    expect(unknown.errors?.[0]?.message).toContain('NOPE');
    expect((await watchlistOf(auth.tokenFor(alice), alice.id)).symbols).toEqual(['MSFT', 'AAPL', '7203.T', 'NVDA']);
  });

  it('refuses a 101st symbol on a watchlist', async () => {
    const carol = { id: 'c0c0c1d2-0000-4000-8000-000000000003' };
    const hundred = (await asAlice('{ searchInstruments(first: 100) { symbol } }')).data.searchInstruments as { symbol: string }[];
    expect(hundred).toHaveLength(100);
    const items = hundred.map((i, n) => ({ PutRequest: { Item: { userId: carol.id, symbol: i.symbol, rank: n + 1, addedAt: new Date().toISOString() } } }));
    for (let n = 0; n < items.length; n += 25) {
      await dynamo.doc.send(new BatchWriteCommand({ RequestItems: { [`${tablePrefix}watchlists`]: items.slice(n, n + 25) } }));
    }
    const extra = (await asAlice('{ searchInstruments(query: "zurich") { symbol } }')).data.searchInstruments[0].symbol as string;
    expect(hundred.map((i) => i.symbol)).not.toContain(extra);
    const refused = await gql(url, 'mutation($s: String!) { addToWatchlist(symbol: $s) { symbol } }', { token: auth.tokenFor(carol), variables: { s: extra } });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'symbol' });
    expect((await watchlistOf(auth.tokenFor(carol), carol.id)).symbols).toHaveLength(100);
  });

  it("keeps one user's watchlist from another, including through _entities", async () => {
    const { result } = await watchlistOf(auth.tokenFor(bob), alice.id);
    expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(result.data?._entities?.[0]?.watchlist).toBeUndefined();

    await asBob('mutation { addToWatchlist(symbol: "BHP.AX") { symbol } }');
    await asBob('mutation { removeFromWatchlist(symbol: "MSFT") { symbol } }');
    expect((await watchlistOf(auth.tokenFor(bob), bob.id)).symbols).toEqual(['BHP.AX']);
    expect((await watchlistOf(auth.tokenFor(alice), alice.id)).symbols).toEqual(['MSFT', 'AAPL', '7203.T', 'NVDA']);
    // An admin may look, as everywhere else.
    expect((await watchlistOf(auth.tokenFor({ id: bob.id, role: 'ADMIN' }), alice.id)).symbols).toEqual(['MSFT', 'AAPL', '7203.T', 'NVDA']);
  });

  it('refuses every read and change without a token', async () => {
    const queries = [
      '{ quote(symbol: "AAPL") { last } }',
      '{ quotes(symbols: ["AAPL"]) { last } }',
      '{ instrument(symbol: "AAPL") { name } }',
      '{ searchInstruments(query: "apple") { symbol } }',
      'mutation { addToWatchlist(symbol: "AAPL") { symbol } }',
      `{ _entities(representations: [{ __typename: "User", id: "${alice.id}" }]) { ... on User { watchlist { symbol } } } }`,
      '{ _entities(representations: [{ __typename: "Quote", symbol: "AAPL" }]) { ... on Quote { last } } }',
      '{ _entities(representations: [{ __typename: "Instrument", symbol: "AAPL" }]) { ... on Instrument { name } } }',
    ];
    for (const query of queries) {
      const result = await gql(url, query);
      expect(result.errors?.[0]?.extensions?.code, query).toBe('UNAUTHENTICATED');
      expect(JSON.stringify(result.data ?? null), query).not.toMatch(/Apple|"last":\d/);
    }
  });

  it('resolves Quote and Instrument entities for a signed-in caller', async () => {
    const result = await asBob(
      '{ _entities(representations: [{ __typename: "Quote", symbol: "SAP.DE" }, { __typename: "Instrument", symbol: "AAPL" }]) { ... on Quote { currency last } ... on Instrument { name } } }',
    );
    expect(result.errors).toBeUndefined();
    expect(result.data._entities).toEqual([{ currency: 'EUR', last: 232.4 }, { name: 'Apple Inc.' }]);
  });

  it('gives Quote and Instrument a stable id, the symbol, wherever they are reached (client caches normalise by it)', async () => {
    const result = await asBob(
      '{ quote(symbol: "SAP.DE") { id symbol instrument { id symbol } } quotes(symbols: ["AAPL"]) { id } instrument(symbol: "BTC-USD") { id quote { id } } _entities(representations: [{ __typename: "Quote", symbol: "MSFT" }, { __typename: "Instrument", symbol: "7203.T" }]) { ... on Quote { id } ... on Instrument { id } } }',
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      quote: { id: 'SAP.DE', symbol: 'SAP.DE', instrument: { id: 'SAP.DE', symbol: 'SAP.DE' } },
      quotes: [{ id: 'AAPL' }],
      instrument: { id: 'BTC-USD', quote: { id: 'BTC-USD' } },
      _entities: [{ id: 'MSFT' }, { id: '7203.T' }],
    });
  });

  it('loads the reference instruments once per version, also when a second instance starts', async () => {
    const markerKey = { TableName: `${tablePrefix}instruments`, Key: { symbol: '#reference-version' }, ConsistentRead: true };
    const before = await dynamo.doc.send(new GetCommand(markerKey));
    expect(before.Item).toMatchObject({ count: (await readReferenceFile()).instruments.length });
    const second = await startMarketService(envFor());
    try {
      const after = await dynamo.doc.send(new GetCommand(markerKey));
      expect(after.Item?.loadedAt).toBe(before.Item?.loadedAt);
    } finally {
      await second.stop();
    }
  });

  it('reports ready while Redis and DynamoDB answer', async () => {
    const ready = await fetch(`${service.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { redis: 'ok', dynamodb: 'ok' } });
  });
});

describe('partner apps', () => {
  /** An app's own token, as the user service's /oauth/token issues it (role PARTNER, the partner claim). */
  const appToken = () => {
    const appId = randomUUID();
    const partner = { id: randomUUID(), appId, contract: 'market-data', scopes: ['read'], trustedDocumentsOnly: false, ratePerMinute: 600, dailyQuota: 100_000 };
    return createTokenIssuer(auth.privateKeyPem, { issuer: ISSUER, audience: AUDIENCE, ttlSeconds: 900 }).issue(
      { id: appId, role: 'PARTNER', sessionId: appId, partner },
      randomUUID(),
    );
  };

  it('read public market data with their own token, but nothing of a user', async () => {
    const token = appToken();
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const data = await gql(
      url,
      `{ quote(symbol: "AAPL") { symbol instrument { name marketState } } quotes(symbols: ["MSFT"]) { symbol } instrument(symbol: "SAP.DE") { quote { symbol } }
        searchInstruments(query: "toyota") { symbol } movers(region: "US") { symbol } candles(symbol: "AAPL", interval: "1h", from: "${from}") { start } }`,
      { token },
    );
    expect(data.errors).toBeUndefined();
    expect(data.data).toMatchObject({ quote: { symbol: 'AAPL' }, quotes: [{ symbol: 'MSFT' }], instrument: { quote: { symbol: 'SAP.DE' } } });
    const entities = await gql(
      url,
      '{ _entities(representations: [{ __typename: "Quote", symbol: "AAPL" }, { __typename: "Instrument", symbol: "AAPL" }]) { ... on Quote { last } ... on Instrument { name } } }',
      { token },
    );
    expect(entities.errors).toBeUndefined();
    for (const query of [WATCHLIST, 'mutation { addToWatchlist(symbol: "AAPL") { symbol } }']) {
      const refused = await gql(url, query, { token, variables: { id: alice.id } });
      expect(refused.errors?.[0]?.extensions?.code, query).toBe('FORBIDDEN');
    }
  });
});
