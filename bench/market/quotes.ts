// Latency of `quotes(symbols: [20 symbols])` through the gateway at a fixed request rate, with
// the market subgraph and the gateway in their own processes (as in stack mode) and, unless
// BENCH_FEED=0, the feed simulator and the ingest worker writing quotes meanwhile.
// The open-loop generator (bench/lib/open-loop.ts) sends at BENCH_RATE requests/s on a fixed
// schedule over up to BENCH_CONNECTIONS kept-alive connections, latency from each request's
// scheduled time (coordinated omission corrected), for BENCH_SECONDS after a warm-up; target and
// achieved rates and the figures are printed and everything stops.
//
//   npx tsx bench/market/quotes.ts
//   BENCH_RATE=500 BENCH_SECONDS=30 BENCH_FEED=1 BENCH_CONNECTIONS=25 npx tsx bench/market/quotes.ts
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { buildMarketSchema } from '@analytica/market-subgraph';
import { createRedis } from '@analytica/redis';
import { compose } from '@analytica/schema';
import { printSdl } from '@analytica/subgraph';
import { createTestAuth, freePort, uniqueName } from '@analytica/testing';
import { describeLoad, runLoad } from '../lib/open-loop.js';
import { backingServicePids, cpuSeconds, fmt, machineBusySeconds, say, startProcess, treeCpuSeconds, waitReady, type Child } from './lib.js';

const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const WITH_FEED = process.env.BENCH_FEED !== '0';
// The pool: enough connections that the rate, not the number of requests in flight, sets the pace
// (a request due while all are busy waits, and its wait counts).
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 25);
const SYMBOLS = [
  'AAPL',
  'MSFT',
  'NVDA',
  'AMZN',
  'GOOGL',
  'META',
  'TSLA',
  'JPM',
  'V',
  'SAP.DE',
  'ASML.AS',
  'NESN.SW',
  'HSBA.L',
  'MC.PA',
  'SIE.DE',
  '7203.T',
  '0700.HK',
  'BHP.AX',
  'WMT',
  'MA',
];
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const dynamoEndpoint = process.env.DYNAMODB_ENDPOINT ?? 'http://127.0.0.1:4567';
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const logDir = mkdtempSync(path.join(os.tmpdir(), 'bench-market-quotes-'));
const prefix = uniqueName('bench_quotes');
const children: Child[] = [];
const auth = await createTestAuth();

const stores = {
  ...auth.env,
  REDIS_URL: redisUrl,
  REDIS_KEY_PREFIX: `${prefix}:`,
  DYNAMODB_ENDPOINT: dynamoEndpoint,
  DYNAMODB_TABLE_PREFIX: `${prefix}_`,
  KAFKA_BROKERS: brokers,
  KAFKA_TOPIC_PREFIX: `${prefix}.`,
};

async function start(name: string, entry: string, env: Record<string, string>) {
  const child = startProcess(name, entry, await freePort(), { ...stores, ...env }, logDir);
  children.push(child);
  await waitReady(child);
  return child;
}

async function run() {
  const { instruments } = await (await import('@analytica/instruments')).readReferenceFile();
  const known = new Set(instruments.map((i) => i.symbol));
  const missing = SYMBOLS.filter((s) => !known.has(s));
  if (missing.length) throw new Error(`not reference symbols: ${missing.join(', ')}`);

  const market = await start('market', 'subgraphs/market/src/main.ts', {});
  const supergraph = compose([{ name: 'market', url: `${market.url}/graphql`, sdl: printSdl(await buildMarketSchema()) }]);
  if (!supergraph.ok) throw new Error(supergraph.errors.join('\n'));
  writeFileSync(path.join(logDir, 'supergraph.graphql'), supergraph.supergraphSdl);
  // The per-user limit would stop one benchmark user long before 500 requests/s.
  const gateway = await start('gateway', 'gateway/src/main.ts', {
    SUPERGRAPH_PATH: path.join(logDir, 'supergraph.graphql'),
    SUPERGRAPH_WATCH: 'false',
    RATE_LIMIT_USER_PER_MINUTE: '100000000',
    RATE_LIMIT_IP_PER_MINUTE: '100000000',
  });
  let worker: Child | undefined;
  let feed: Child | undefined;
  if (WITH_FEED) {
    worker = await start('market-ingest', 'workers/market-ingest/src/main.ts', {});
    feed = await start('market-feed', 'infra/simulators/market-feed/src/main.ts', { FEED_ALWAYS_OPEN: 'true', FEED_TICKS_PER_SYMBOL: '1' });
  }

  const body = JSON.stringify({
    query: 'query Quotes($symbols: [String!]!) { quotes(symbols: $symbols) { symbol last bid ask change changePercent volume time marketState stale } }',
    variables: { symbols: SYMBOLS },
  });
  const request = {
    url: `${gateway.url}/graphql`,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${auth.tokenFor({ id: 'b3c0c1d2-0000-4000-8000-00000000b001' })}` },
    body,
  };
  const sample = (await (await fetch(request.url, { method: 'POST', headers: request.headers, body })).json()) as { data?: { quotes: { symbol: string }[] }; errors?: unknown };
  if (sample.errors || sample.data?.quotes.length !== 20) throw new Error(`unexpected answer: ${JSON.stringify(sample).slice(0, 300)}`);
  const prefixBytes = Buffer.from('{"data":{"quotes":[');
  const validate = (text: Buffer) => (text.subarray(0, prefixBytes.length).equals(prefixBytes) ? undefined : 'not a quotes answer');

  say(`warm-up: 5 s at ${RATE} requests/s`);
  say(`  ${describeLoad(await runLoad({ ...request, connections: CONNECTIONS, rate: RATE, seconds: 5 }))}`);

  const pids = {
    gateway: gateway.pid,
    market: market.pid,
    ...(worker ? { worker: worker.pid, simulator: feed!.pid } : {}),
    ...backingServicePids(),
    'load generator': process.pid,
  };
  const read = () => Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, !pid ? NaN : n === 'load generator' ? cpuSeconds(pid) : treeCpuSeconds(pid)]));
  const cpuBefore = read();
  const busyBefore = machineBusySeconds();
  say(`measuring: ${SECONDS} s at ${RATE} requests/s, 20 symbols per request${WITH_FEED ? ', feed at 1 tick/s for each of 241 symbols' : ''}`);
  const result = await runLoad({ ...request, connections: CONNECTIONS, rate: RATE, seconds: SECONDS, timeoutMs: 10_000, validate });
  const cpuAfter = read();
  const busy = machineBusySeconds() - busyBefore;

  say(
    `  RESULT quotes(20 symbols) through the gateway, target ${RATE} req/s, achieved ${fmt(result.achievedRate, 1)} req/s (${fmt((result.achievedRate / RATE) * 100, 1)} %): ` +
      `p50 ${fmt(result.latency.p50, 1)} ms, p90 ${fmt(result.latency.p90, 1)} ms, p99 ${fmt(result.latency.p99, 1)} ms, max ${fmt(result.latency.max)} ms (from each request's scheduled time)`,
  );
  say(`  sent ${fmt(result.sent)}, answered ${fmt(result.answered)}, errors ${result.errors}${result.errors ? ` (${JSON.stringify(result.errorReasons)})` : ''}`);
  say(`  ${describeLoad(result)}`);
  const cpu = Object.entries(cpuAfter)
    .filter(([, v]) => Number.isFinite(v))
    .map(([n, v]) => `${n} ${fmt(((v - cpuBefore[n]!) / result.seconds) * 100)}%`);
  say(`  CPU (100% = one core; the machine has ${os.cpus().length}): ${cpu.join(', ')}; whole machine ${fmt((busy / result.seconds) * 100)}%`);
}

async function cleanUp() {
  await Promise.all(children.map((c) => c.stop()));
  await auth.close();
  const redis = createRedis(redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
  const dynamo = createDynamo({ endpoint: dynamoEndpoint, region: 'eu-west-1' });
  await deleteTablesWithPrefix(dynamo, `${prefix}_`);
  dynamo.close();
  if (WITH_FEED) {
    const admin = new Kafka({ clientId: 'bench', brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
    if (topics.length) await admin.deleteTopics({ topics });
    await admin.disconnect();
  }
}

try {
  say(`quotes benchmark (${os.cpus().length} cores; logs in ${logDir})`);
  await run();
} catch (error) {
  say(`benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
