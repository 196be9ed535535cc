// Ticks ingested end to end: producer → Kafka → market-ingest worker → Redis (quotes, movers,
// pub/sub) and DynamoDB (candles). Two measurements, each against its own topic prefix:
//   drain:     BENCH_TICKS realistic ticks are in the topic before the worker starts; how fast it
//              empties the topic is its capacity.
//   sustained: the feed simulator publishes BENCH_RATE ticks/s for BENCH_SECONDS while the worker
//              consumes; does it keep up, and how late is a quote (exchange time → Redis write)?
// Both run the worker and the simulator as their own processes, as stack mode does, and report
// where the CPU went (worker, simulator, Kafka, Redis, dynalite, this process).
//
//   npx tsx bench/market/ingest.ts
//   BENCH_TICKS=600000 BENCH_RATE=20000 BENCH_SECONDS=30 npx tsx bench/market/ingest.ts
//   (BENCH_SKIP_DRAIN=1 or BENCH_SKIP_SUSTAINED=1 runs one part; BENCH_PROFILE=1 profiles the worker)
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { createKafkaBus, encodeEvent, type BusMessage } from '@analytica/events';
import { readReferenceFile } from '@analytica/instruments';
import { createLogger } from '@analytica/logger';
import { createLiveFeed, type TickPayload } from '@analytica/market-feed-simulator';
import { createRedis } from '@analytica/redis';
import { freePort, uniqueName } from '@analytica/testing';
import { backingServicePids, cpuSeconds, fmt, histogramQuantile, machineBusySeconds, say, scrape, startProcess, treeCpuSeconds, waitReady, type Child } from './lib.js';

const TICKS = Number(process.env.BENCH_TICKS ?? 600_000);
const RATE = Number(process.env.BENCH_RATE ?? 20_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const dynamoEndpoint = process.env.DYNAMODB_ENDPOINT ?? 'http://127.0.0.1:4567';
const logDir = mkdtempSync(path.join(os.tmpdir(), 'bench-market-ingest-'));
const run = uniqueName('bench_ingest');
const prefixes: string[] = [];
const children: Child[] = [];

function storesFor(prefix: string) {
  prefixes.push(prefix);
  return {
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `${prefix}:`,
    DYNAMODB_ENDPOINT: dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: `${prefix}_`,
    KAFKA_BROKERS: brokers,
    KAFKA_TOPIC_PREFIX: `${prefix}.`,
  };
}

async function startWorker(env: Record<string, string>) {
  // BENCH_PROFILE=1 leaves a V8 CPU profile of the worker in the log folder (open it in Chrome DevTools).
  const profile = process.env.BENCH_PROFILE === '1' ? ['--cpu-prof', `--cpu-prof-dir=${logDir}`] : [];
  const worker = startProcess('market-ingest', 'workers/market-ingest/src/main.ts', await freePort(), env, logDir, profile);
  children.push(worker);
  await waitReady(worker);
  return worker;
}

const ingested = (m: Map<string, number>) =>
  (m.get('market_ingest_ticks_total{outcome="applied"}') ?? 0) +
  (m.get('market_ingest_ticks_total{outcome="duplicate"}') ?? 0) +
  (m.get('market_ingest_ticks_total{outcome="dead_letter"}') ?? 0);

/** CPU seconds used meanwhile by each process that takes part. */
function cpuMeter(pids: Record<string, number | undefined>) {
  // The bench process alone: its children are counted under their own names.
  const read = () => Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, !pid ? NaN : name === 'bench' ? cpuSeconds(pid) : treeCpuSeconds(pid)]));
  const before = read();
  const machineBefore = machineBusySeconds();
  return () => {
    const after = read();
    return { processes: Object.fromEntries(Object.entries(after).map(([name, v]) => [name, v - before[name]!])), machine: machineBusySeconds() - machineBefore };
  };
}

function printCpu(cpu: { processes: Record<string, number>; machine: number }, seconds: number) {
  const parts = Object.entries(cpu.processes)
    .filter(([, v]) => Number.isFinite(v))
    .map(([name, v]) => `${name} ${fmt((v / seconds) * 100)}%`);
  say(`  CPU (100% = one core; the machine has ${os.cpus().length}): ${parts.join(', ')}; whole machine ${fmt((cpu.machine / seconds) * 100)}%`);
}

function printStages(before: Map<string, number>, after: Map<string, number>, ticks: number) {
  const diff = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
  const stages = ['load', 'alerts', 'redis', 'candles'].map((s) => `${s} ${fmt((diff(`market_ingest_stage_seconds_sum{stage="${s}"}`) * 1e6) / ticks, 1)}`);
  const batches = diff('market_ingest_batch_size_count');
  say(`  worker time per tick (µs, awaited I/O included): ${stages.join(', ')}; batches ${fmt(batches)} of ${fmt(ticks / Math.max(1, batches))} ticks on average`);
  say(
    `  candles: ${fmt(diff('market_ingest_candle_writes_total'))} conditional writes in ${fmt(diff('market_ingest_flush_seconds_count'))} flushes, ` +
      `${fmt((diff('market_ingest_flush_seconds_sum') * 1000) / Math.max(1, diff('market_ingest_flush_seconds_count')), 1)} ms per flush`,
  );
}

/** Realistic ticks for the whole universe, made ahead of time (the simulator's own generator). */
async function makeTicks(count: number): Promise<BusMessage[]> {
  const { instruments } = await readReferenceFile();
  const messages: BusMessage[] = [];
  const rate = 20_000;
  const feed = createLiveFeed({
    instruments,
    ticksPerSymbol: 1,
    ticksPerSecond: rate,
    alwaysOpen: true,
    seed: 42,
    volatilityMultiplier: 1,
    emit: (tick: TickPayload) => messages.push(encodeEvent('market.ticks.v1', tick.symbol, tick)),
  });
  let at = Date.now() - Math.ceil(count / rate) * 1000;
  while (messages.length < count) feed.step((at += 20));
  return messages.slice(0, count);
}

async function drain() {
  say(`drain: ${fmt(TICKS)} ticks of ${241} symbols in the topic, then the worker starts`);
  const env = storesFor(`${run}_d`);
  const messages = await makeTicks(TICKS);
  const bus = createKafkaBus({ brokers: [brokers], clientId: 'bench', prefix: env.KAFKA_TOPIC_PREFIX, logger: createLogger('bench', 'warn') });
  let started = Date.now();
  for (let n = 0; n < messages.length; n += 5000) await bus.publish('market.ticks.v1', messages.slice(n, n + 5000));
  await bus.close();
  say(`  produced in ${fmt((Date.now() - started) / 1000, 1)} s (${fmt(TICKS / ((Date.now() - started) / 1000))} ticks/s through one idempotent producer, acks=all)`);

  const worker = await startWorker(env);
  const meter = cpuMeter({ worker: worker.pid, ...backingServicePids(), bench: process.pid });
  const before = await scrape(worker.metricsUrl);
  started = Date.now();
  // Timed from the first scrape that sees ticks applied, counting only those applied after it.
  let first: { at: number; done: number } | undefined;
  let done = 0;
  while (done < TICKS) {
    await new Promise((r) => setTimeout(r, 50));
    done = ingested(await scrape(worker.metricsUrl));
    if (done > 0 && first === undefined) first = { at: Date.now(), done };
    if (Date.now() - started > 600_000) throw new Error(`drain stalled at ${done} ticks`);
  }
  const seconds = (Date.now() - first!.at) / 1000;
  const cpu = meter();
  const after = await scrape(worker.metricsUrl);
  say(`  RESULT drain: ${fmt((TICKS - first!.done) / seconds)} ticks/s (${fmt(TICKS - first!.done)} ticks in ${fmt(seconds, 1)} s)`);
  printCpu(cpu, seconds);
  printStages(before, after, TICKS);
  await worker.stop();
}

async function sustained() {
  say(`sustained: the simulator publishes ${fmt(RATE)} ticks/s for ${SECONDS} s while the worker consumes`);
  const env = storesFor(`${run}_s`);
  const worker = await startWorker({ ...env });
  const feed = startProcess(
    'market-feed',
    'infra/simulators/market-feed/src/main.ts',
    await freePort(),
    {
      ...env,
      FEED_ALWAYS_OPEN: 'true',
      FEED_TICKS_PER_SECOND: String(RATE),
    },
    logDir,
  );
  children.push(feed);
  await waitReady(feed);
  await new Promise((r) => setTimeout(r, 5000)); // warm up: JIT, caches, the first candle reads
  const meter = cpuMeter({ worker: worker.pid, simulator: feed.pid, ...backingServicePids(), bench: process.pid });
  const workerBefore = await scrape(worker.metricsUrl);
  const feedBefore = await scrape(feed.metricsUrl);
  const started = Date.now();
  const samples: number[] = [];
  while (Date.now() - started < SECONDS * 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    const m = await scrape(feed.metricsUrl);
    const w = await scrape(worker.metricsUrl);
    samples.push((m.get('feed_ticks_published_total') ?? 0) - ingested(w));
  }
  const seconds = (Date.now() - started) / 1000;
  const cpu = meter();
  const workerAfter = await scrape(worker.metricsUrl);
  const feedAfter = await scrape(feed.metricsUrl);
  const published = (feedAfter.get('feed_ticks_published_total') ?? 0) - (feedBefore.get('feed_ticks_published_total') ?? 0);
  const generated = (feedAfter.get('feed_ticks_generated_total{kind="trade"}') ?? 0) - (feedBefore.get('feed_ticks_generated_total{kind="trade"}') ?? 0);
  const applied = ingested(workerAfter) - ingested(workerBefore);
  say(
    `  simulator: generated ${fmt(generated / seconds)} ticks/s, published ${fmt(published / seconds)} ticks/s, buffer at the end ${fmt(feedAfter.get('feed_buffer_ticks') ?? 0)}`,
  );
  say(
    `  RESULT sustained: worker ingested ${fmt(applied / seconds)} ticks/s; lag (published - ingested) went ${samples
      .map((s) => fmt(s))
      .slice(0, 3)
      .join(', ')} ... ${samples
      .slice(-3)
      .map((s) => fmt(s))
      .join(', ')}`,
  );
  const q = (p: number) => fmt(histogramQuantile(workerBefore, workerAfter, 'market_ingest_tick_latency_seconds', p) * 1000);
  say(`  quote latency, exchange time → Redis write (histogram bucket upper bounds): p50 ≤ ${q(0.5)} ms, p99 ≤ ${q(0.99)} ms`);
  printCpu(cpu, seconds);
  printStages(workerBefore, workerAfter, applied);
}

async function cleanUp() {
  await Promise.all(children.map((c) => c.stop()));
  const redis = createRedis(redisUrl);
  for (const prefix of prefixes) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
  await redis.quit();
  const dynamo = createDynamo({ endpoint: dynamoEndpoint, region: 'eu-west-1' });
  for (const prefix of prefixes) await deleteTablesWithPrefix(dynamo, `${prefix}_`);
  dynamo.close();
  const admin = new Kafka({ clientId: 'bench', brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => prefixes.some((p) => t.startsWith(`${p}.`)));
  if (topics.length) await admin.deleteTopics({ topics });
  await admin.disconnect();
}

try {
  say(`market ingest benchmark (${os.cpus().length} cores; logs in ${logDir})`);
  if (process.env.BENCH_SKIP_DRAIN !== '1') await drain();
  if (process.env.BENCH_SKIP_SUSTAINED !== '1') await sustained();
} catch (error) {
  say(`benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
