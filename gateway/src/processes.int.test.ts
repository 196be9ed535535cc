// GATEWAY_PROCESSES=2: the gateway as two processes on one port (node:cluster, packages/service
// cluster.ts). The whole process contract holds for the pair (start, /health, /ready, /metrics,
// SIGTERM, bad configuration); beyond it: both processes serve, /metrics counts for both whichever
// one a scrape reaches, a process that dies is replaced while the other serves, and live quotes
// reach subscribers on either process.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { compose } from '@analytica/schema';
import { createRedis } from '@analytica/redis';
import { entityChannel } from '@analytica/redis/live';
import { createTestAuth, eventually, freePort, services, uniqueName, type TestAuth } from '@analytica/testing';
import { describeServiceProcess, startProcess } from '@analytica/testing/service-process';

const entry = fileURLToPath(new URL('./main.ts', import.meta.url));

describeServiceProcess({
  name: 'gateway',
  entry,
  env: () => ({ REDIS_URL: services.redisUrl, REDIS_KEY_PREFIX: `${uniqueName('gateway_cluster')}:`, SUPERGRAPH_WATCH: 'false', GATEWAY_PROCESSES: '2' }),
  badEnv: { GATEWAY_PROCESSES: 'two' },
  dependencies: ['supergraph', 'redis'],
});

/** A market subgraph that knows one thing of a quote: its last price, 1 before any tick (a subscription's first message). */
const MARKET = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@tag"])
  type Quote @key(fields: "symbol") @tag(name: "public") { symbol: String! last: Float! }
  type Query { quote(symbol: String!): Quote @tag(name: "public") }
  type Subscription { quotes(symbols: [String!]!): Quote! @tag(name: "public") }`;

/** Each request over a connection of its own (the primary hands new connections to the workers in turn), bounded. */
const fresh = (url: string) => fetch(url, { headers: { connection: 'close' }, signal: AbortSignal.timeout(5000) });

/** The pids of a process's children (the workers of a primary). */
function childrenOf(pid: number): number[] {
  const tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return tasks ? tasks.split(/\s+/).map(Number) : [];
}

/** The count of GET /health answered 200, from one scrape. */
function healthAnswers(metrics: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith('http_request_duration_seconds_count{') && l.includes('route="/health"') && l.includes('status="200"'));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('gateway as two processes that cannot start', () => {
  it('stops every process and exits 1 when one fails before it listens, as one process would', async () => {
    const run = startProcess(entry, {
      REDIS_URL: services.redisUrl,
      SUPERGRAPH_PATH: path.join(os.tmpdir(), `${uniqueName('no_such_supergraph')}.graphql`),
      SUPERGRAPH_WATCH: 'false',
      GATEWAY_PROCESSES: '2',
      PORT: String(await freePort()),
    });
    const code = await run.exited;
    const output = run.output();
    expect(code, output).toBe(1);
    expect(output).toContain('a process exited before it listened (start failure); stopping');
    expect(output).toContain('every process stopped');
  }, 90_000);
});

describe('gateway as two processes', () => {
  const prefix = `${uniqueName('gateway_cluster')}:`;
  let auth: TestAuth;
  let market: ApolloServer;
  let dir: string;
  let child: ReturnType<typeof startProcess>['child'];
  let output: () => string;
  let url: string;
  let metricsUrl: string;

  beforeAll(async () => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    url = `http://127.0.0.1:${port}`;
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    auth = await createTestAuth();
    market = new ApolloServer({
      schema: buildSubgraphSchema([{ typeDefs: parse(MARKET), resolvers: { Quote: { __resolveReference: (ref: { symbol: string }) => ({ symbol: ref.symbol, last: 1 }) } } }]),
    });
    const { url: marketUrl } = await startStandaloneServer(market, { listen: { port: 0, host: '127.0.0.1' } });
    const composed = compose([{ name: 'market', url: `${marketUrl}graphql`, sdl: MARKET }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    dir = await mkdtemp(path.join(os.tmpdir(), 'gateway-processes-'));
    await writeFile(path.join(dir, 'supergraph.graphql'), composed.supergraphSdl);
    ({ child, output } = startProcess(entry, {
      ...auth.env,
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: prefix,
      SUPERGRAPH_PATH: path.join(dir, 'supergraph.graphql'),
      SUPERGRAPH_WATCH: 'false',
      GATEWAY_PROCESSES: '2',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
    }));
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`the gateway exited with ${child.exitCode}:\n${output()}`);
      return (await fetch(`${url}/ready`).catch(() => undefined))?.ok || undefined;
    }, 120_000);
    // Both listen before the primary says so.
    await eventually(async () => output().includes('gateway: 2 processes listening') || undefined, 30_000);
  }, 160_000);

  afterAll(async () => {
    if (child?.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await auth?.close();
    await market?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves from two processes, and /metrics counts the requests of both whichever one answers the scrape', async () => {
    expect(childrenOf(child.pid!)).toHaveLength(2);
    const before = healthAnswers(await (await fetch(metricsUrl)).text());
    // A new connection each: the primary hands them to the workers in turn.
    for (let i = 0; i < 20; i++) expect((await fresh(`${url}/health`)).status).toBe(200);
    // Several scrapes, over new connections too: each reaches one worker, and each sees all 20.
    for (let i = 0; i < 4; i++) {
      expect(healthAnswers(await (await fresh(metricsUrl)).text()) - before).toBe(20);
    }
  });

  it('delivers live quotes to subscribers on either process', async () => {
    const publisher = createRedis(services.redisUrl);
    // Four connections: handed out in turn, they land on both workers.
    const clients = Array.from({ length: 4 }, (_, i) =>
      createClient({
        url: `${url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        lazy: false,
        retryAttempts: 0,
        connectionParams: { authorization: `Bearer ${auth.tokenFor({ id: `cluster-${i}` })}` },
      }),
    );
    const received: Array<Array<{ symbol: string; last: number }>> = clients.map(() => []);
    const stops = clients.map((client, i) =>
      client.subscribe<{ quotes: { symbol: string; last: number } }>(
        { query: 'subscription { quotes(symbols: ["CLSTR"]) { symbol last } }' },
        {
          next: (result) => result.data && received[i]!.push(result.data.quotes),
          error: (error) => received[i]!.push({ symbol: `error ${(error as { reason?: string }).reason ?? JSON.stringify(error)}`, last: NaN }),
          complete: () => undefined,
        },
      ),
    );
    try {
      // Each subscriber first gets the quote as the market subgraph has it, then every tick.
      await eventually(async () => received.every((r) => r.length > 0) || undefined, 20_000);
      for (const r of received) expect(r).toEqual([{ symbol: 'CLSTR', last: 1 }]);
      await publisher.publish(`${prefix}${entityChannel('Quote', 'CLSTR')}`, JSON.stringify({ __typename: 'Quote', symbol: 'CLSTR', last: 101.5 }));
      await eventually(async () => received.every((r) => r.length > 1) || undefined, 10_000);
      for (const r of received)
        expect(r).toEqual([
          { symbol: 'CLSTR', last: 1 },
          { symbol: 'CLSTR', last: 101.5 },
        ]);
    } finally {
      stops.forEach((stop) => stop());
      await Promise.all(clients.map((client) => client.dispose()));
      await publisher.quit();
    }
  });

  it('replaces a process that dies while the other goes on serving', async () => {
    const [victim, survivor] = childrenOf(child.pid!);
    process.kill(victim!, 'SIGKILL');
    // The survivor answers meanwhile; then a new process takes the place of the dead one.
    const replaced = await eventually(
      async () => {
        expect((await fresh(`${url}/health`)).status).toBe(200);
        const now = childrenOf(child.pid!);
        return now.length === 2 && !now.includes(victim!) ? now : undefined;
      },
      60_000,
      250,
    );
    expect(replaced).toContain(survivor);
    expect(output()).toContain('a process exited while serving; starting another');
    for (let i = 0; i < 4; i++) expect((await fresh(`${url}/ready`)).status).toBe(200);
  }, 90_000);
});
