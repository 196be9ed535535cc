// What usage recording costs the gateway: its CPU at a fixed rate (BENCH_RATE, default 500 req/s)
// with usage reporting off and on, alternating (BENCH_PAIRS pairs) so that a noisy machine weighs
// on both alike. The gateway runs as its own process (as deployed, NODE_ENV=production) on its
// supergraph from the registry; one stand-in subgraph answers every query with a fixed body, so the
// gateway's own work is what is measured. Three clients send three different operations.
// Figures are printed, not asserted.
//
//   npx tsx bench/registry/usage-cpu.ts        BENCH_RATE=500 BENCH_SECONDS=20 BENCH_PAIRS=2
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildSchema, parse } from 'graphql';
import { createUsageReporter } from '@analytica/gateway';
import { createLogger } from '@analytica/logger';
import { parseRegistryEnv, registryClient, startRegistry } from '@analytica/schema/registry';
import { dropSchema, freePort, services, uniqueName } from '@analytica/testing';
import { describeLoad, runLoad } from '../lib/open-loop.js';
import { cpuSeconds, fmt, say, startProcess, waitReady } from '../market/lib.js';

const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 2);
const schema = uniqueName('bench_usage');
const token = `bench-admin-${uniqueName('t')}`;
const logDir = path.join(os.tmpdir(), schema);

// The stand-in subgraph: every fetch the gateway sends it gets the same answer.
const body = JSON.stringify({ data: { hello: 'hi', world: 'earth', count: 3 } });
const subgraph = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(body);
  });
});
await new Promise<void>((resolve) => subgraph.listen(0, '127.0.0.1', resolve));
const subgraphUrl = `http://127.0.0.1:${(subgraph.address() as AddressInfo).port}/graphql`;

const registry = await startRegistry(
  parseRegistryEnv({ DATABASE_URL: services.databaseUrl, DATABASE_SCHEMA: schema, REGISTRY_ADMIN_TOKEN: token, REGISTRY_SUBGRAPHS: 'alpha', PORT: '0', LOG_LEVEL: 'warn' }),
);
const admin = registryClient(registry.url, token);
await admin.publish([
  {
    name: 'alpha',
    url: subgraphUrl,
    sdl: 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@shareable"])\ntype Query { hello: String world: String count(n: Int): Int }\n',
  },
]);
const gatewayToken = (await admin.createToken('gateway', ['read', 'report'])).token;

const requests = [
  { client: ['web', '1.4'], query: 'query Greeting { hello }' },
  { client: ['ios', '2.0'], query: 'query Both { hello world }' },
  { client: ['android', '3.1'], query: 'query Count($n: Int) { count(n: $n) }', variables: { n: 2 } },
].map((r) => ({
  headers: { 'apollographql-client-name': r.client[0]!, 'apollographql-client-version': r.client[1]! },
  body: JSON.stringify({ query: r.query, variables: r.variables }),
}));

async function measure(usage: boolean) {
  const port = await freePort();
  const gateway = startProcess(
    `gateway-${usage ? 'usage' : 'plain'}`,
    'gateway/src/main.ts',
    port,
    {
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: `${schema}:`,
      SUPERGRAPH_URL: `${registry.url}/api/supergraph`,
      REGISTRY_TOKEN: gatewayToken,
      RATE_LIMIT_IP_PER_MINUTE: '100000000',
      RATE_LIMIT_USER_PER_MINUTE: '100000000',
      ...(usage ? { USAGE_REPORT_URL: `${registry.url}/api/usage`, USAGE_FLUSH_SECONDS: '10' } : {}),
    },
    logDir,
  );
  try {
    await waitReady(gateway);
    // Open loop at RATE requests/s over up to 20 connections, the three operations in turn.
    const load = (seconds: number) =>
      runLoad({
        url: `${gateway.url}/graphql`,
        rate: RATE,
        seconds,
        connections: 20,
        headers: { 'content-type': 'application/json' },
        request: (i) => requests[i % requests.length]!,
      });
    await load(5);
    const before = cpuSeconds(gateway.pid);
    const result = await load(SECONDS);
    const cpu = cpuSeconds(gateway.pid) - before;
    return { cpuPercent: (cpu / result.seconds) * 100, result };
  } finally {
    await gateway.stop();
  }
}

/**
 * The plugin's own cost per request, in-process and without noise from other processes: its two
 * hooks on a realistic request context (an operation it has seen, as nearly all are).
 */
async function pluginMicroseconds(): Promise<number> {
  const reporter = createUsageReporter({ url: 'http://127.0.0.1:9/unused', flushSeconds: 3600, logger: createLogger('bench', 'silent') });
  const schema = buildSchema('type Query { hello: String world: String count(n: Int): Int }');
  const document = parse('query Both { hello world }');
  const headers = new Map([
    ['apollographql-client-name', 'ios'],
    ['apollographql-client-version', '2.0'],
  ]);
  const context = { schema, document, queryHash: 'abc', operationName: 'Both', response: { body: { kind: 'single', singleResult: { data: {} } } } };
  const once = async () => {
    const hooks = await reporter.plugin.requestDidStart!({ request: { http: { headers } }, contextValue: {} } as never);
    await (hooks as { willSendResponse: (rc: unknown) => Promise<void> }).willSendResponse(context);
  };
  for (let i = 0; i < 20_000; i++) await once();
  const n = 200_000;
  const started = process.cpuUsage();
  for (let i = 0; i < n; i++) await once();
  const used = process.cpuUsage(started);
  await reporter.stop().catch(() => undefined);
  return (used.user + used.system) / n;
}

try {
  const perRequestUs = await pluginMicroseconds();
  say(`usage plugin alone: ${fmt(perRequestUs, 2)} µs of CPU per request (200,000 requests in-process)`);
  say(`gateway CPU at ${RATE} req/s for ${SECONDS} s, usage reporting off and on, ${PAIRS} pair(s); machine: ${os.cpus().length} cores`);
  const off: number[] = [];
  const on: number[] = [];
  for (let i = 0; i < PAIRS; i++) {
    for (const usage of i % 2 === 0 ? [false, true] : [true, false]) {
      const { cpuPercent, result } = await measure(usage);
      (usage ? on : off).push(cpuPercent);
      say(
        `  usage ${usage ? 'on ' : 'off'}: gateway CPU ${fmt(cpuPercent, 1)} % of a core; target ${RATE} req/s, ${fmt(result.achievedRate)} req/s answered, ` +
          `p50 ${fmt(result.latency.p50, 1)} ms, p99 ${fmt(result.latency.p99, 1)} ms, errors ${result.errors}\n    ${describeLoad(result)}`,
      );
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const overhead = ((mean(on) - mean(off)) / mean(off)) * 100;
  say(
    `  measured end to end: usage on adds ${fmt(overhead, 1)} % to gateway CPU (${fmt(mean(off), 1)} -> ${fmt(mean(on), 1)} % of a core; the machine's noise between runs is larger)`,
  );
  const gatewayUs = (mean(off) / 100 / RATE) * 1e6; // CPU over the target rate (the achieved rate is printed per run)
  say(
    `  RESULT usage recording costs ${fmt(perRequestUs, 2)} µs of the gateway's ${fmt(gatewayUs)} µs CPU per request = ${fmt((perRequestUs / gatewayUs) * 100, 2)} % (aim: under 2 %), plus batches every 10 s off the request path`,
  );
  const recorded = await admin.usageOperations({});
  say(
    `  recorded: ${recorded.operations.map((o: { name: string; client: { name: string }; count: number; p95Ms: number }) => `${o.name} by ${o.client.name}: ${fmt(o.count)} (p95 ${o.p95Ms} ms)`).join('; ')}`,
  );
} finally {
  await registry.stop();
  subgraph.close();
  await dropSchema(schema);
}
