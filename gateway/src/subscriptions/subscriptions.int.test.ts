// The subscription engine's mechanics through the gateway, with small fixture subgraphs that follow
// the convention (a subscription field returns an entity by its key, or has no argument for the
// caller's own events) and real Redis for the events. What the shipped schema shares, and the path
// from the feed, are tested on the real stack in test/e2e/live-quotes.test.ts.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import express from 'express';
import { GraphQLError, parse } from 'graphql';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import WebSocket from 'ws';
import { compose } from '@analytica/schema';
import { createRevocationList } from '@analytica/auth';
import { createRedis } from '@analytica/redis';
import { callerChannel } from '@analytica/redis/live';
import { createTestAuth, eventually, services, uniqueName, type TestAuth } from '@analytica/testing';
import { parseGatewayEnv, startGateway } from '../index.js';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@tag"])';
const alice = { id: 'alice' };
const bob = { id: 'bob' };
const prefix = `${uniqueName('subs')}:`;

const fixtures = {
  market: `${LINK}
    type Quote @key(fields: "symbol") @tag(name: "public") { symbol: String! last: Float! changePercent: Float! }
    type Query { quote(symbol: String!): Quote @tag(name: "public") }
    type AlertFired { symbol: String! price: Float! }
    type Subscription {
      quotes(symbols: [String!]!): Quote! @tag(name: "public")
      quote(symbol: String!): Quote! @tag(name: "public")
      alertFired: AlertFired!
    }`,
  news: `${LINK}
    type Quote @key(fields: "symbol") { symbol: String! headline: String @tag(name: "public") }
    type Query { headlines: [String!]! }`,
  payment: `${LINK}
    type Payment @key(fields: "id") { id: ID! status: String! }
    type Query { payment(id: ID!): Payment }
    type Subscription { paymentStatus(paymentId: ID!): Payment! }`,
};

/** Who a fixture request is from: the token's subject (the gateway verified it already). */
function subjectOf(req: express.Request): string | undefined {
  const token = req.headers.authorization?.replace(/^Bearer /, '');
  if (!token) return undefined;
  return (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sub: string }).sub;
}

const requests = { news: 0, market: 0 };
const servers: http.Server[] = [];

async function serveFixture(name: keyof typeof fixtures, resolvers: Record<string, any>) {
  const schema = buildSubgraphSchema([{ typeDefs: parse(fixtures[name]), resolvers }]);
  const apollo = new ApolloServer<{ subject?: string }>({ schema, plugins: [ApolloServerPluginInlineTraceDisabled()] });
  await apollo.start();
  const app = express();
  app.use(
    '/graphql',
    express.json(),
    (req, _res, next) => {
      if (name === 'news' || name === 'market') requests[name]++;
      next();
    },
    expressMiddleware(apollo, { context: async ({ req }) => ({ subject: subjectOf(req) }) }),
  );
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, stop: () => apollo.stop() };
}

let auth: TestAuth;
let dir: string;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let wsUrl: string;
let publisher: ReturnType<typeof createRedis>;
const stops: (() => Promise<void>)[] = [];
let urls: Record<string, string>;

async function writeSupergraph(names: (keyof typeof fixtures)[]) {
  const composed = compose(names.map((name) => ({ name, url: urls[name]!, sdl: fixtures[name] })));
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  await writeFile(path.join(dir, 'supergraph.graphql'), composed.supergraphSdl);
}

beforeAll(async () => {
  auth = await createTestAuth();
  dir = await mkdtemp(path.join(os.tmpdir(), 'subscriptions-test-'));
  const market = await serveFixture('market', {
    // Symbols starting with X are unknown, refused in the words the real market subgraph uses.
    Quote: {
      __resolveReference: (ref: { symbol: string }) => {
        if (ref.symbol.startsWith('X')) throw new GraphQLError(`No instrument has the symbol "${ref.symbol}".`, { extensions: { code: 'BAD_USER_INPUT', field: 'symbol' } });
        return { symbol: ref.symbol, last: 1, changePercent: 0 };
      },
    },
  });
  const news = await serveFixture('news', {
    Quote: { __resolveReference: (ref: { symbol: string }) => ({ symbol: ref.symbol, headline: `News about ${ref.symbol}` }) },
  });
  const payment = await serveFixture('payment', {
    Payment: {
      // Payments "a-..." belong to alice; anyone else is refused, as the real payment subgraph does.
      __resolveReference: (ref: { id: string }, ctx: { subject?: string }) => {
        if (!ref.id.startsWith(`${ctx.subject?.[0]}-`)) throw new GraphQLError(`Payment ${ref.id} was not found.`, { extensions: { code: 'NOT_FOUND' } });
        return { id: ref.id, status: 'QUEUED' };
      },
    },
  });
  stops.push(market.stop, news.stop, payment.stop);
  urls = { market: market.url, news: news.url, payment: payment.url };
  await writeSupergraph(['market', 'news', 'payment']);
  gateway = await startGateway(
    parseGatewayEnv({
      PORT: '0',
      LOG_LEVEL: 'silent',
      SUPERGRAPH_PATH: path.join(dir, 'supergraph.graphql'),
      SUPERGRAPH_WATCH: 'true',
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: prefix,
      // Long, so that a session ending at once proves the revocation notice, not the periodic check.
      SUBSCRIPTION_RECHECK_SECONDS: '60',
      SUBSCRIPTION_MAX_BUFFERED_BYTES: '65536',
      SUBSCRIPTION_SLOW_CLIENT_CLOSE_MS: '2000',
      ...auth.env,
    }),
  );
  wsUrl = `${gateway.url.replace('http', 'ws')}/graphql`;
  publisher = createRedis(services.redisUrl);
});

/** The first message of an entity subscription is the entity's current state, as its owner reads it. */
const initial = (symbol: string) => ({ symbol, last: 1, headline: `News about ${symbol}` });

afterAll(async () => {
  await gateway?.stop();
  for (const stop of stops) await stop();
  for (const server of servers) server.close();
  await publisher?.quit();
  await auth?.close();
  await rm(dir, { recursive: true, force: true });
});

function wsClient(token: string | undefined, onClose?: (event: { code: number; reason: string }) => void, url = wsUrl): WsClient {
  return createWsClient({
    url,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    // Close codes are asserted through on.closed; the default handler would print them.
    onNonLazyError: () => {},
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    on: { closed: (event) => onClose?.(event as { code: number; reason: string }) },
  });
}

/** Collects what a subscription delivers. */
function collect(client: WsClient, query: string, variables: Record<string, unknown> = {}) {
  const results: any[] = [];
  const errors: any[] = [];
  let completed = false;
  const dispose = client.subscribe({ query, variables }, { next: (r) => void results.push(r), error: (e) => void errors.push(e), complete: () => void (completed = true) });
  return { results, errors, dispose, completed: () => completed };
}

const tick = (symbol: string, last: number) => publisher.publish(`${prefix}Quote.${symbol}`, JSON.stringify({ __typename: 'Quote', symbol, last, changePercent: 0.5 }));

/** Waits until the hub listens on a channel (subscriptions are set up asynchronously). */
async function listening(channel: string) {
  await eventually(async () => {
    const [, count] = (await publisher.call('PUBSUB', 'NUMSUB', `${prefix}${channel}`)) as [string, number];
    return count > 0 ? true : undefined;
  });
}

describe('subscriptions over graphql-ws', () => {
  it('delivers quotes for three symbols with a field from another subgraph, and stops after unsubscribe', async () => {
    const client = wsClient(auth.tokenFor(alice));
    try {
      const sub = collect(client, 'subscription($s: [String!]!) { quotes(symbols: $s) { symbol last headline } }', { s: ['AAA', 'BBB', 'CCC'] });
      await eventually(async () => (sub.results.length >= 3 ? true : undefined));
      const bySymbol = (rs: any[]) => rs.map((r) => r.data?.quotes ?? { symbol: JSON.stringify(r) }).sort((a, b) => a.symbol.localeCompare(b.symbol));
      expect(bySymbol(sub.results)).toEqual([initial('AAA'), initial('BBB'), initial('CCC')]);
      await tick('AAA', 10);
      await tick('BBB', 20);
      await tick('DDD', 99); // not subscribed
      await tick('CCC', 30);
      await eventually(async () => (sub.results.length >= 6 ? true : undefined));
      expect(bySymbol(sub.results.slice(3))).toEqual([
        { symbol: 'AAA', last: 10, headline: 'News about AAA' },
        { symbol: 'BBB', last: 20, headline: 'News about BBB' },
        { symbol: 'CCC', last: 30, headline: 'News about CCC' },
      ]);
      sub.dispose();
      await eventually(async () => {
        const [, count] = (await publisher.call('PUBSUB', 'NUMSUB', `${prefix}Quote.AAA`)) as [string, number];
        return count === 0 ? true : undefined;
      });
      await tick('AAA', 11);
      await new Promise((r) => setTimeout(r, 200));
      expect(sub.results).toHaveLength(6);
    } finally {
      await client.dispose();
    }
  });

  it('closes with 4401 without a token and 4403 with a bad one', async () => {
    const closes: number[] = [];
    const anonymous = wsClient(undefined, (e) => closes.push(e.code));
    const forged = wsClient(`${auth.tokenFor(alice).slice(0, -4)}AAAA`, (e) => closes.push(e.code));
    await eventually(async () => (closes.length === 2 ? true : undefined));
    expect(closes.sort()).toEqual([4401, 4403]);
    await anonymous.dispose();
    await forged.dispose();
  });

  it('closes with 4403, which clients retry with a fresh token, when the token expires while connected', async () => {
    const closes: { code: number; reason: string }[] = [];
    const client = wsClient(auth.tokenFor(alice, { ttlSeconds: 2 }), (e) => closes.push(e));
    try {
      collect(client, 'subscription { quote(symbol: "AAA") { symbol } }');
      await eventually(async () => (closes.length === 1 ? true : undefined), 5000);
      expect(closes[0]).toMatchObject({ code: 4403, reason: expect.stringContaining('expired') });
    } finally {
      await client.dispose();
    }
  });

  it('answers an invalid selection with a validation error', async () => {
    const client = wsClient(auth.tokenFor(alice));
    try {
      const sub = collect(client, 'subscription { quotes(symbols: ["AAA"]) { symbol salary } }');
      await eventually(async () => (sub.errors.length ? true : undefined));
      expect(sub.errors[0][0]).toMatchObject({ message: expect.stringContaining('salary'), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
      const unknown = collect(client, 'subscription { quotes(symbols: ["XYZ"]) { symbol } }');
      await eventually(async () => (unknown.errors.length ? true : undefined));
      expect(unknown.errors[0][0]).toMatchObject({ message: 'No instrument has the symbol "XYZ".', extensions: { code: 'BAD_USER_INPUT', field: 'symbols' } });
    } finally {
      await client.dispose();
    }
  });

  it('shares one execution among 100 identical subscriptions: one fetch per other subgraph per event', async () => {
    const clients = Array.from({ length: 10 }, () => wsClient(auth.tokenFor({ id: uniqueName('u') })));
    try {
      const subs = clients.flatMap((client) => Array.from({ length: 10 }, () => collect(client, 'subscription { quote(symbol: "EEE") { symbol last headline } }')));
      await listening('Quote.EEE');
      // Every subscriber starts with the current value, read once for all of them.
      await eventually(async () => (subs.every((s) => s.results.length === 1) ? true : undefined));
      expect(subs[99]!.results[0].data.quote).toEqual(initial('EEE'));
      const before = requests.news;
      await tick('EEE', 1);
      await eventually(async () => (subs.every((s) => s.results.length === 2) ? true : undefined));
      await tick('EEE', 2);
      await eventually(async () => (subs.every((s) => s.results.length === 3) ? true : undefined));
      expect(requests.news - before).toBe(2);
      expect(subs[57]!.results[2].data.quote).toEqual({ symbol: 'EEE', last: 2, headline: 'News about EEE' });
      const metrics = await (await fetch(`${gateway.metricsUrl}/metrics`)).text();
      expect(metrics).toMatch(/subscription_executions_active\{[^}]*\} 1\n/);
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
    }
  });

  it('shares per-symbol executions among public subscriptions to overlapping symbol lists', async () => {
    const first = wsClient(auth.tokenFor({ id: uniqueName('u') }));
    const second = wsClient(auth.tokenFor({ id: uniqueName('u') }));
    try {
      const query = 'subscription($s: [String!]!) { quotes(symbols: $s) { symbol last headline } }';
      const a = collect(first, query, { s: ['KKA', 'KKB'] });
      const b = collect(second, query, { s: ['KKB', 'KKC'] });
      await eventually(async () => (a.results.length === 2 && b.results.length === 2 ? true : undefined));
      const before = requests.news;
      await tick('KKB', 5);
      await eventually(async () => (a.results.length === 3 && b.results.length === 3 ? true : undefined));
      expect(requests.news - before).toBe(1);
      expect(a.results[2].data.quotes).toEqual(b.results[2].data.quotes);
      a.dispose();
      b.dispose();
    } finally {
      await first.dispose();
      await second.dispose();
    }
  });

  it("batches the other subgraph's fetches of events that arrive together into one request, each event with its own entity", async () => {
    const symbols = ['BTA', 'BTB', 'BTC', 'BTD', 'BTE', 'BTF'];
    const clients = symbols.map(() => wsClient(auth.tokenFor({ id: uniqueName('u') })));
    try {
      const subs = symbols.map((symbol, i) => collect(clients[i]!, 'subscription($s: [String!]!) { quotes(symbols: $s) { symbol last headline } }', { s: [symbol] }));
      await eventually(async () => (subs.every((s) => s.results.length === 1) ? true : undefined));
      const before = requests.news;
      // One round trip to Redis: the six events reach the gateway together, as a busy feed's do.
      const pipeline = publisher.pipeline();
      symbols.forEach((symbol, i) => pipeline.publish(`${prefix}Quote.${symbol}`, JSON.stringify({ __typename: 'Quote', symbol, last: 100 + i, changePercent: 0 })));
      await pipeline.exec();
      await eventually(async () => (subs.every((s) => s.results.length === 2) ? true : undefined));
      expect(requests.news - before).toBe(1);
      symbols.forEach((symbol, i) => expect(subs[i]!.results[1].data.quotes).toEqual({ symbol, last: 100 + i, headline: `News about ${symbol}` }));
      const metrics = await (await fetch(`${gateway.metricsUrl}/metrics`)).text();
      // The six events went as one request of six entities: the histogram saw a batch above 5.
      const bucket = (le: string) => Number(new RegExp(`subscription_entity_batch_size_bucket\\{[^}]*le="${le}"[^}]*subgraph="news"[^}]*\\} (\\d+)`).exec(metrics)?.[1]);
      expect(bucket('10')).toBeGreaterThan(bucket('5'));
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
    }
  });

  it("refuses a subscription to another user's payment as the owner refuses it over HTTP, and delivers the owner's", async () => {
    const client = wsClient(auth.tokenFor(bob));
    const owner = wsClient(auth.tokenFor(alice));
    try {
      const theirs = collect(client, 'subscription { paymentStatus(paymentId: "a-1") { id status } }');
      await eventually(async () => (theirs.errors.length ? true : undefined));
      expect(theirs.errors[0][0]).toMatchObject({ message: 'Payment a-1 was not found.', extensions: { code: 'NOT_FOUND' } });
      const mine = collect(owner, 'subscription { paymentStatus(paymentId: "a-1") { id status } }');
      await eventually(async () => (mine.results.length ? true : undefined));
      expect(mine.results[0].data.paymentStatus).toEqual({ id: 'a-1', status: 'QUEUED' });
      await publisher.publish(`${prefix}Payment.a-1`, JSON.stringify({ __typename: 'Payment', id: 'a-1', status: 'SUCCEEDED' }));
      await eventually(async () => (mine.results.length === 2 ? true : undefined));
      expect(mine.results[1].data.paymentStatus).toEqual({ id: 'a-1', status: 'SUCCEEDED' });
    } finally {
      await client.dispose();
      await owner.dispose();
    }
  });

  it("delivers a caller's own events to that caller only", async () => {
    const aliceClient = wsClient(auth.tokenFor(alice));
    const bobClient = wsClient(auth.tokenFor(bob));
    try {
      const mine = collect(aliceClient, 'subscription { alertFired { symbol price } }');
      const theirs = collect(bobClient, 'subscription { alertFired { symbol price } }');
      await listening(callerChannel('AlertFired', alice.id));
      await listening(callerChannel('AlertFired', bob.id));
      await publisher.publish(`${prefix}${callerChannel('AlertFired', alice.id)}`, JSON.stringify({ __typename: 'AlertFired', symbol: 'AAA', price: 140 }));
      await eventually(async () => (mine.results.length ? true : undefined));
      expect(mine.results[0].data.alertFired).toEqual({ symbol: 'AAA', price: 140 });
      await new Promise((r) => setTimeout(r, 200));
      expect(theirs.results).toHaveLength(0);
    } finally {
      await aliceClient.dispose();
      await bobClient.dispose();
    }
  });

  it('takes a renewed token over the open socket and keeps every subscription past the old expiry', async () => {
    const closes: { code: number; reason: string }[] = [];
    const pongs: unknown[] = [];
    let socket: WebSocket | undefined;
    const client = createWsClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => {},
      connectionParams: { authorization: `Bearer ${auth.tokenFor(alice, { ttlSeconds: 2 })}` },
      on: {
        connected: (s) => void (socket = s as WebSocket),
        pong: (received, payload) => void (received && payload && pongs.push(payload)),
        closed: (e) => void closes.push(e as { code: number; reason: string }),
      },
    });
    try {
      const sub = collect(client, 'subscription { quote(symbol: "RRR") { symbol last } }');
      await eventually(async () => (sub.results.length === 1 ? true : undefined));
      // As README.md documents: a ping whose payload carries the new token.
      socket!.send(JSON.stringify({ type: 'ping', payload: { authorization: `Bearer ${auth.tokenFor(alice)}` } }));
      await eventually(async () => (pongs.length ? true : undefined));
      expect(pongs[0]).toMatchObject({ renewed: true, expiresAt: expect.any(String) });
      // Someone else's token is refused and changes nothing.
      socket!.send(JSON.stringify({ type: 'ping', payload: { authorization: `Bearer ${auth.tokenFor(bob)}` } }));
      await eventually(async () => (pongs.length === 2 ? true : undefined));
      expect(pongs[1]).toMatchObject({ renewed: false, message: expect.stringContaining('another user') });
      await new Promise((r) => setTimeout(r, 2500)); // past the first token's expiry
      await tick('RRR', 42);
      await eventually(async () => (sub.results.length === 2 ? true : undefined));
      expect(sub.results[1].data.quote).toEqual({ symbol: 'RRR', last: 42 });
      expect(closes).toEqual([]);
    } finally {
      await client.dispose();
    }
  });

  it('closes the sockets of a revoked session at once with 4401, and no other session', async () => {
    const revocations = createRevocationList(createRedis(services.redisUrl, { keyPrefix: prefix }));
    const revokedToken = auth.tokenFor(alice);
    const closes: number[] = [];
    const revoked = wsClient(revokedToken, (e) => closes.push(e.code));
    const otherSession = wsClient(auth.tokenFor(alice));
    try {
      const gone = collect(revoked, 'subscription { quote(symbol: "SSS") { symbol last } }');
      const kept = collect(otherSession, 'subscription { quote(symbol: "SSS") { symbol last } }');
      await eventually(async () => (gone.results.length && kept.results.length ? true : undefined));
      const sessionId = (JSON.parse(Buffer.from(revokedToken.split('.')[1]!, 'base64url').toString()) as { sid: string }).sid;
      const started = Date.now();
      await revocations.revokeSessions(alice.id, [sessionId]);
      await eventually(async () => (closes.length ? true : undefined), 5000, 20);
      expect(closes).toEqual([4401]);
      expect(Date.now() - started).toBeLessThan(1000); // the periodic check runs every 60 s here
      await tick('SSS', 9);
      await eventually(async () => (kept.results.length === 2 ? true : undefined));
      expect(gone.results).toHaveLength(1);
    } finally {
      await revoked.dispose();
      await otherSession.dispose();
    }
  });

  it('closes a client that stops reading with 1013 while another stays on time', async () => {
    const symbols = Array.from({ length: 50 }, (_, i) => `SLOW${i}`);
    const slow = new WebSocket(wsUrl, 'graphql-transport-ws');
    const slowClosed = new Promise<number>((resolve) => slow.on('close', (code) => resolve(code)));
    await new Promise((resolve) => slow.on('open', resolve));
    slow.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${auth.tokenFor(bob)}` } }));
    await new Promise((resolve) => slow.once('message', resolve));
    const query = 'subscription($s: [String!]!) { quotes(symbols: $s) { symbol last changePercent headline } }';
    for (let id = 0; id < 100; id++) slow.send(JSON.stringify({ id: String(id), type: 'subscribe', payload: { query, variables: { s: symbols } } }));
    const normal = wsClient(auth.tokenFor(alice));
    const latencies: number[] = [];
    normal.subscribe(
      { query: 'subscription { quote(symbol: "SLOW0") { last } }' },
      { next: (r: any) => void (r.data.quote.last > 1 && latencies.push(Date.now() - r.data.quote.last)), error: () => {}, complete: () => {} },
    );
    try {
      await eventually(async () => {
        const metrics = await (await fetch(`${gateway.metricsUrl}/metrics`)).text();
        return /subscriptions_active\{[^}]*\} 101\n/.test(metrics) ? true : undefined;
      });
      (slow as unknown as { _socket: { pause(): void } })._socket.pause(); // reads nothing from now on
      const flood = setInterval(() => {
        const now = Date.now();
        const pipeline = publisher.pipeline();
        for (const symbol of symbols) pipeline.publish(`${prefix}Quote.${symbol}`, JSON.stringify({ __typename: 'Quote', symbol, last: now, changePercent: 0.5 }));
        void pipeline.exec();
      }, 20);
      try {
        await eventually(
          async () => {
            const metrics = await (await fetch(`${gateway.metricsUrl}/metrics`)).text();
            return /subscription_slow_clients_closed_total\{[^}]*\} 1\n/.test(metrics) ? true : undefined;
          },
          30_000,
          200,
        );
      } finally {
        clearInterval(flood);
      }
      // It reads again: what was queued, then the close frame with the reason.
      (slow as unknown as { _socket: { resume(): void } })._socket.resume();
      expect(await slowClosed).toBe(1013);
      expect(latencies.length).toBeGreaterThan(20);
      latencies.sort((a, b) => a - b);
      expect(latencies[Math.floor(latencies.length / 2)]).toBeLessThan(250);
    } finally {
      slow.terminate();
      await normal.dispose();
    }
  });

  it('ends subscriptions with 1012 when the supergraph changes, so clients resubscribe', async () => {
    const closes: { code: number; reason: string }[] = [];
    const client = wsClient(auth.tokenFor(alice), (e) => closes.push(e));
    try {
      collect(client, 'subscription { quote(symbol: "FFF") { symbol } }');
      await listening('Quote.FFF');
      await writeSupergraph(['market', 'news']);
      await eventually(async () => (closes.length ? true : undefined), 10_000);
      expect(closes[0]).toMatchObject({ code: 1012, reason: expect.stringContaining('schema changed') });
    } finally {
      await client.dispose();
      // Put the payment subgraph back, and wait for the reload (it ends open subscriptions) before the next test.
      const reloaded: number[] = [];
      const watcher = wsClient(auth.tokenFor(alice), (e) => reloaded.push(e.code));
      collect(watcher, 'subscription { quote(symbol: "FFF") { symbol } }');
      await listening('Quote.FFF');
      await writeSupergraph(['market', 'news', 'payment']);
      await eventually(async () => (reloaded.length ? true : undefined), 10_000);
      await watcher.dispose();
    }
  });
});

describe('subscriptions over SSE', () => {
  it('delivers quotes with a field from another subgraph over an event stream', async () => {
    const client = createSseClient({
      url: `${gateway.url}/graphql`,
      headers: { authorization: `Bearer ${auth.tokenFor(alice)}` },
      retryAttempts: 0,
    });
    const results: any[] = [];
    const dispose = client.subscribe(
      { query: 'subscription { quotes(symbols: ["GGG", "HHH"]) { symbol last headline } }' },
      { next: (r) => void results.push(r), error: () => {}, complete: () => {} },
    );
    try {
      await eventually(async () => (results.length === 2 ? true : undefined));
      expect(results.map((r) => r.data.quotes).sort((a, b) => a.symbol.localeCompare(b.symbol))).toEqual([initial('GGG'), initial('HHH')]);
      await tick('GGG', 7);
      await tick('HHH', 8);
      await eventually(async () => (results.length === 4 ? true : undefined));
      expect(
        results
          .slice(2)
          .map((r) => [r.data.quotes.last, r.data.quotes.headline])
          .sort(),
      ).toEqual([
        [7, 'News about GGG'],
        [8, 'News about HHH'],
      ]);
    } finally {
      dispose();
      client.dispose();
    }
  });

  it('refuses an event stream without a token with 401', async () => {
    const response = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { quote(symbol: "AAA") { symbol } }' }),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
  });
});
