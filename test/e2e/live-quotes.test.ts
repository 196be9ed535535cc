// Live quotes as shipped: the committed supergraph, every service its own process, ticks from the
// feed simulator through Kafka and market-ingest into Redis and out of the gateway, to clients of
// many users over graphql-ws and SSE. Nothing here patches the schema or publishes into Redis.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTokenIssuer } from '@analytica/auth';
import { dropSchema, eventually, freePort, gql, isolatedRunEnv, uniqueName } from '@analytica/testing';
import { DEFAULT_PORTS, repoRoot, SUBGRAPHS } from '../../dev/src/processes.js';
import { localSecrets } from '../../dev/src/secrets.js';
import { startStack, type RunningStack } from '../../dev/src/stack.js';

const run = uniqueName('live');
const dataDir = path.join(repoRoot, '.data/test-secrets');
const RECHECK_SECONDS = 5;
let stack: RunningStack;
let issuer: ReturnType<typeof createTokenIssuer>;

/** The subscription README.md shows, as a frontend developer would copy it. */
const README_SUBSCRIPTION = (() => {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.trimStart().startsWith('subscription'));
  if (!block) throw new Error('README.md shows no subscription');
  return block;
})();
const README_SYMBOLS = JSON.parse(/quotes\(symbols: (\[[^\]]*\])\)/.exec(README_SUBSCRIPTION)![1]!) as string[];

beforeAll(async () => {
  const ports = Object.fromEntries(await Promise.all(Object.keys(DEFAULT_PORTS).map(async (name) => [name, await freePort()] as const))) as typeof DEFAULT_PORTS;
  stack = await startStack({
    ports,
    extraGatewayPorts: [await freePort()],
    schemaPrefix: `${run}_`,
    logDir: path.join(repoRoot, '.data/test-logs', run),
    dataDir,
    env: {
      LOG_LEVEL: 'info',
      ...isolatedRunEnv(run),
      // The feed's own settings: the README's symbols, every day of the week, 2 ticks/s each.
      FEED_SYMBOLS: README_SYMBOLS.join(','),
      FEED_ALWAYS_OPEN: 'true',
      FEED_TICKS_PER_SYMBOL: '2',
      ACCESS_TOKEN_TTL_SECONDS: '60',
      SUBSCRIPTION_RECHECK_SECONDS: String(RECHECK_SECONDS),
    },
  });
  // Tokens of many distinct users, signed with the stack's own key as the user service signs them.
  issuer = createTokenIssuer((await localSecrets(dataDir)).jwtPrivateKey, { issuer: 'analytica', audience: 'analytica-api', ttlSeconds: 900 });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  for (const name of [...SUBGRAPHS, 'notifications', 'inference', 'registry']) await dropSchema(`${run}_${name}`);
});

const wsUrlOf = (gatewayUrl: string) => gatewayUrl.replace('http', 'ws');
const tokenOf = (userId: string) => issuer.issue({ id: userId, role: 'USER', sessionId: crypto.randomUUID() }, crypto.randomUUID());

/** The gateway's Prometheus counters and gauges: `value("name")` or `value("name", { label: "value" })`, summed over other labels. */
async function metrics(gatewayUrl: string): Promise<(name: string, labels?: Record<string, string>) => number> {
  // Each gateway's /metrics is on its private listener (METRICS_PORT), found by its place in the stack.
  const metricsUrl = stack.gatewayMetricsUrls[stack.gatewayUrls.indexOf(gatewayUrl)];
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const samples = text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
      const labels = Object.fromEntries([...(match?.[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      return { name: match?.[1], labels, value: Number(match?.[3]) };
    });
  return (name, labels = {}) => samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

interface Received {
  at: number;
  symbol: string;
  time: string;
  headline: unknown;
}
type Quote = { symbol: string; last: number; changePercent: number; time: string | null; latestHeadline: { title: string } | null };

function wsSubscriber(gatewayUrl: string, token: string) {
  const received: Received[] = [];
  const errors: unknown[] = [];
  const client: WsClient = createWsClient({
    url: wsUrlOf(gatewayUrl),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${token}` },
  });
  client.subscribe(
    { query: README_SUBSCRIPTION },
    {
      next: (r) => {
        if (r.errors) errors.push(r.errors);
        const q = (r.data as { quotes: Quote } | null)?.quotes;
        if (q) received.push({ at: Date.now(), symbol: q.symbol, time: q.time ?? '', headline: q.latestHeadline });
      },
      error: (e) => void errors.push(e),
      complete: () => {},
    },
  );
  return { received, errors, close: () => client.dispose() };
}

function sseSubscriber(gatewayUrl: string, token: string) {
  const received: Received[] = [];
  const errors: unknown[] = [];
  let completed = false;
  const client = createSseClient({ url: gatewayUrl, headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
  const dispose = client.subscribe(
    { query: README_SUBSCRIPTION },
    {
      next: (r) => {
        if (r.errors) errors.push(r.errors);
        const q = (r.data as { quotes: Quote } | null)?.quotes;
        if (q) received.push({ at: Date.now(), symbol: q.symbol, time: q.time ?? '', headline: q.latestHeadline });
      },
      error: (e) => void errors.push(e),
      complete: () => void (completed = true),
    },
  );
  return {
    received,
    errors,
    completed: () => completed,
    close: async () => {
      dispose();
      client.dispose();
    },
  };
}

describe("the README's ticker subscription on the shipped stack", () => {
  it('serves 100 clients of 100 users with one execution and at most one news fetch per event, and no subgraph call per subscriber', async () => {
    const gatewayUrl = stack.gatewayUrls[0]!;
    const before = await metrics(gatewayUrl);
    expect(before('subscriptions_active')).toBe(0);
    const clients = [
      ...Array.from({ length: 80 }, (_, i) => wsSubscriber(gatewayUrl, tokenOf(`${run}-ws-${i}`))),
      ...Array.from({ length: 20 }, (_, i) => sseSubscriber(gatewayUrl, tokenOf(`${run}-sse-${i}`))),
    ];
    try {
      await eventually(async () => ((await metrics(gatewayUrl))('subscriptions_active') === 100 ? true : undefined), 30_000, 200);
      const subscribedAt = Date.now();
      // Every client starts with the current quote of each symbol.
      await eventually(async () => (clients.every((c) => README_SYMBOLS.every((s) => c.received.some((r) => r.symbol === s))) ? true : undefined), 10_000, 100);
      expect((await metrics(gatewayUrl))('subscription_executions_active')).toBe(README_SYMBOLS.length);
      await new Promise((r) => setTimeout(r, 6000));
      const until = Date.now() - 1500; // ticks of the last moments may still be on their way
      for (const client of clients) expect(client.errors).toEqual([]);

      // Each tick of the feed after everyone subscribed reached every client, with its headline.
      const ticks = new Set(clients.flatMap((c) => c.received.filter((r) => Date.parse(r.time) > subscribedAt && Date.parse(r.time) < until).map((r) => `${r.symbol}@${r.time}`)));
      expect(ticks.size).toBeGreaterThanOrEqual(README_SYMBOLS.length * 4);
      for (const client of clients) {
        const seen = new Set(client.received.map((r) => `${r.symbol}@${r.time}`));
        expect([...ticks].filter((t) => !seen.has(t))).toEqual([]);
      }
      // latestHeadline comes from news through the shared execution (the bundled articles mention AAPL).
      expect(clients[0]!.received.filter((r) => r.symbol === 'AAPL').at(-1)!.headline).toEqual({ title: expect.any(String) });
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
    await eventually(async () => ((await metrics(gatewayUrl))('subscription_executions_active') === 0 ? true : undefined), 10_000, 100);
    await new Promise((r) => setTimeout(r, 500));
    const after = await metrics(gatewayUrl);
    const runs = after('subscription_executions_total') - before('subscription_executions_total');
    const newsFetches = after('subscription_subgraph_fetches_total', { subgraph: 'news' }) - before('subscription_subgraph_fetches_total', { subgraph: 'news' });
    const marketFetches = after('subscription_subgraph_fetches_total', { subgraph: 'market' }) - before('subscription_subgraph_fetches_total', { subgraph: 'market' });
    expect(runs).toBeGreaterThan(README_SYMBOLS.length * 8);
    // At most one `_entities` call to news per execution, whatever the number of subscribers
    // (events of several symbols that arrive together share one call).
    expect(newsFetches).toBeGreaterThan(0);
    expect(newsFetches).toBeLessThanOrEqual(runs);
    // Market: one check of the keys and one current value per symbol, not one per subscriber.
    expect(marketFetches).toBeLessThanOrEqual(2 * README_SYMBOLS.length);
  });

  it('delivers every event to the clients of each of two gateway processes on one Redis', async () => {
    const [first, second] = stack.gatewayUrls as [string, string];
    const clients = [first, first, second, second].map((url, i) => ({ url, ...wsSubscriber(url, tokenOf(`${run}-two-${i}`)) }));
    try {
      for (const url of [first, second]) await eventually(async () => ((await metrics(url))('subscriptions_active') === 2 ? true : undefined), 20_000, 200);
      const subscribedAt = Date.now();
      await new Promise((r) => setTimeout(r, 5000));
      const until = Date.now() - 1500;
      const window = (c: (typeof clients)[number]) =>
        new Set(c.received.filter((r) => Date.parse(r.time) > subscribedAt + 500 && Date.parse(r.time) < until).map((r) => `${r.symbol}@${r.time}`));
      const expected = window(clients[0]!);
      expect(expected.size).toBeGreaterThanOrEqual(README_SYMBOLS.length * 4);
      for (const client of clients) expect([...window(client)].sort()).toEqual([...expected].sort());
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('keeps a client whose 60 s token it renews over the socket receiving for 5 minutes, with no gap over 2 s', async () => {
    const email = `${uniqueName('ticker')}@example.com`;
    const registered = await gql(stack.gatewayUrl, 'mutation($i: RegisterInput!) { register(input: $i) { accessToken refreshToken expiresAt } }', {
      variables: { i: { email, password: 'a long enough password 42', displayName: 'Tia Ticker', homeCurrency: 'EUR' } },
    });
    expect(registered.errors).toBeUndefined();
    let session = registered.data.register as { accessToken: string; refreshToken: string; expiresAt: string };
    expect(Date.parse(session.expiresAt) - Date.now()).toBeLessThanOrEqual(61_000);

    const received: number[] = [];
    /** Each message's Quote.time: after a gap, it tells a tick delivered late from a feed that was quiet. */
    const quoteTimes: number[] = [];
    const closes: unknown[] = [];
    const renewals: { renewed: boolean }[] = [];
    let socket: WebSocket | undefined;
    // As README.md documents: keep the socket graphql-ws opened, renew over it before expiry.
    const client = createWsClient({
      url: wsUrlOf(stack.gatewayUrl),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: () => ({ authorization: `Bearer ${session.accessToken}` }),
      on: {
        connected: (s) => void (socket = s as WebSocket),
        pong: (received, payload) => void (received && payload && renewals.push(payload as { renewed: boolean })),
        closed: (e) => void closes.push(e),
      },
    });
    const errors: unknown[] = [];
    client.subscribe(
      { query: README_SUBSCRIPTION },
      {
        next: (r) => {
          if (r.errors) return void errors.push(r.errors);
          received.push(Date.now());
          quoteTimes.push(Date.parse((r.data as { quotes: Quote }).quotes.time ?? ''));
        },
        error: (e) => void errors.push(e),
        complete: () => {},
      },
    );
    const renew = setInterval(() => {
      void (async () => {
        const refreshed = await gql(stack.gatewayUrl, 'mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken expiresAt } }', {
          variables: { t: session.refreshToken },
        });
        if (refreshed.errors) return void errors.push(refreshed.errors);
        session = refreshed.data.refreshSession;
        socket?.send(JSON.stringify({ type: 'ping', payload: { authorization: `Bearer ${session.accessToken}` } }));
      })();
    }, 40_000);
    const started = Date.now();
    try {
      await new Promise((r) => setTimeout(r, 5 * 60_000));
    } finally {
      clearInterval(renew);
      await client.dispose();
    }
    expect(errors).toEqual([]);
    expect(closes).toEqual([]);
    expect(renewals.length).toBeGreaterThanOrEqual(7);
    expect(renewals.every((r) => r.renewed)).toBe(true);
    const times = [started, ...received];
    const gaps = times.slice(1).map((t, i) => ({ ms: t - times[i]!, after: new Date(times[i]!).toISOString(), lateMs: t - quoteTimes[i]! }));
    const longest = gaps.reduce((a, b) => (b.ms > a.ms ? b : a));
    // When and how late, to find the gap in the stack's logs (.data/test-logs/<run>).
    const where = `longest gap ${longest.ms} ms, after ${longest.after}; the message that ended it came ${longest.lateMs} ms after its tick (logs: .data/test-logs/${run})`;
    expect(longest.ms, where).toBeLessThanOrEqual(2000);
    expect(received.at(-1)!).toBeGreaterThan(started + 5 * 60_000 - 2000);
  }, 360_000);

  it('ends an event stream when its session logs out, within the recheck interval, and delivers nothing after', async () => {
    const email = `${uniqueName('sse')}@example.com`;
    const registered = await gql(stack.gatewayUrl, 'mutation($i: RegisterInput!) { register(input: $i) { accessToken } }', {
      variables: { i: { email, password: 'a long enough password 42', displayName: 'Sam Stream', homeCurrency: 'EUR' } },
    });
    const token = registered.data.register.accessToken as string;
    const stream = sseSubscriber(stack.gatewayUrl, token);
    try {
      await eventually(async () => (stream.received.length >= README_SYMBOLS.length + 2 ? true : undefined), 15_000, 50);
      const loggedOut = await gql(stack.gatewayUrl, 'mutation { logout }', { token });
      expect(loggedOut.errors).toBeUndefined();
      const at = Date.now();
      await eventually(async () => (stream.completed() ? true : undefined), RECHECK_SECONDS * 1000, 50);
      // Ticks keep coming for everyone else; this stream has had none since the logout.
      await new Promise((r) => setTimeout(r, 2000));
      expect(stream.received.filter((r) => r.at > at)).toEqual([]);
      expect(stream.errors).toEqual([]);
    } finally {
      await stream.close();
    }
  });
});
