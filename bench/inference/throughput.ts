/**
 * Inference benchmark (issue 13, acceptance 4): events/s through Kafka and p99 per prediction for
 * each model, with the inference worker run as stack mode runs it. See README.md.
 *
 *   npx tsx bench/inference/throughput.ts [--burst 3000] [--rates 100,300] [--duration 15] [--keep-logs]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { entryOf, repoRoot, spawnService, stopProcess, waitUntilReady } from '@analytica/dev/processes';
import { modelStoreEnv } from '@analytica/dev/stack';
import { createKafkaBus, encodeEvent, type EventPayload } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { freePort, uniqueName } from '@analytica/testing';

const { values: args } = parseArgs({
  options: {
    burst: { type: 'string', default: '3000' },
    rates: { type: 'string', default: '100,300' },
    duration: { type: 'string', default: '15' },
    'users-per-input': { type: 'string', default: '10' },
    'keep-logs': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write('usage: tsx bench/inference/throughput.ts [--burst N (0: none)] [--rates R,R (events/s, open loop)] [--duration S] [--users-per-input N] [--keep-logs]\n');
  process.exit(0);
}
const burst = Number(args.burst);
const rates = args.rates === 'none' ? [] : args.rates.split(',').map(Number);
const durationS = Number(args.duration);
const usersPerInput = Math.max(1, Number(args['users-per-input']));

const say = (line = '') => process.stdout.write(`${line}\n`);
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const run = uniqueName('bench_inference');
const topicPrefix = `${run}.`;
const schema = `${run}_inference`;
const logDir = path.join(repoRoot, '.data/bench-logs', run);
const loadavg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

// Held-out users' spending from the anomaly model's parity file: realistic payees, amounts and times.
const anomalyVersion = readFileSync(path.join(repoRoot, 'ml/artefacts/anomaly/ACTIVE'), 'utf8').trim();
const inputs = (
  JSON.parse(readFileSync(path.join(repoRoot, 'ml/artefacts/anomaly', anomalyVersion, 'parity.json'), 'utf8')) as {
    inputs: { userId: string; payee: string; amountMinor: number; bookedAt: string }[];
  }
).inputs;
let sequence = 0;
/**
 * The next recorded transaction: uncategorised (so that both models run). The held-out file has
 * three users; each is dealt round-robin to `--users-per-input` bench users (each pass over the file
 * new ones), so that the events spread over the topic's partitions as many users' would.
 */
function nextEvent() {
  const i = sequence++;
  const input = inputs[i % inputs.length]!;
  const userId = `${run}-${Math.floor(i / inputs.length)}-${input.userId}-${i % usersPerInput}`;
  const payload: EventPayload<'transactions.recorded.v1'> = {
    transactionId: randomUUID(),
    userId,
    accountId: 'bench',
    payee: input.payee,
    amountMinor: String(input.amountMinor),
    currency: 'EUR',
    bookedAt: input.bookedAt,
    categoryId: null,
    splits: [],
    transferId: null,
  };
  return encodeEvent('transactions.recorded.v1', userId, payload);
}

/** What the worker's /metrics says: events handled, and the latency histogram per model (cumulative buckets). */
async function scrape(metricsUrl: string) {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  let events = 0;
  const buckets: Record<string, Map<number, number>> = { categoriser: new Map(), anomaly: new Map() };
  const versions: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('inference_events_total{')) events += Number(line.split(' ').pop());
    const b = /^inference_latency_seconds_bucket\{.*le="([^"]+)".*model="(\w+)"|^inference_latency_seconds_bucket\{.*model="(\w+)".*le="([^"]+)"/.exec(line);
    if (b) {
      const le = b[1] ?? b[4]!;
      const model = b[2] ?? b[3]!;
      buckets[model]?.set(le === '+Inf' ? Infinity : Number(le), Number(line.split(' ').pop()));
    }
    const v = /^inference_model_info\{model="(\w+)",version="([^"]+)"/.exec(line);
    if (v) versions[v[1]!] = v[2]!;
  }
  return { events, buckets, versions };
}

/** A quantile from the difference of two cumulative histograms, interpolated inside its bucket (µs). */
function quantile(before: Map<number, number>, after: Map<number, number>, q: number): { us: number; n: number } {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((le) => after.get(le)! - (before.get(le) ?? 0));
  const n = counts.at(-1) ?? 0;
  if (!n) return { us: Number.NaN, n };
  const target = q * n;
  let lower = 0;
  let prev = 0;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! >= target) {
      const upper = bounds[i]!;
      if (!Number.isFinite(upper)) return { us: lower * 1e6, n };
      const inBucket = counts[i]! - prev;
      return { us: (lower + ((upper - lower) * (target - prev)) / Math.max(inBucket, 1)) * 1e6, n };
    }
    lower = bounds[i]!;
    prev = counts[i]!;
  }
  return { us: Number.NaN, n };
}

const uncommitted = () => {
  const out = spawnSync('git', ['status', '--porcelain', '--', 'workers/inference', 'packages/objects', 'packages/events', 'packages/config', 'ml/artefacts', 'dev/src'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  return out.stdout.trimEnd();
};

async function main() {
  say(`# Inference benchmark ${new Date().toISOString()}`);
  say(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), load average at start ${loadavg()}`);
  say(`isolation: KAFKA_TOPIC_PREFIX=${topicPrefix} DATABASE_SCHEMA=${schema}; model registry: the stack's (s3proxy, prefix models/)`);
  const dirty = uncommitted();
  if (dirty) say(`NOT COMMITTED (what ran is the working tree):\n${dirty.replace(/^/gm, '  ')}`);

  // The registry as `npm run stack` seeds it: the committed artefacts published into s3proxy.
  const storeEnv = modelStoreEnv('');
  execFileSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'workers/inference/src/registry/cli.ts'), 'publish'], {
    cwd: repoRoot,
    env: { ...process.env, ...storeEnv, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });

  const port = await freePort();
  const worker = spawnService(
    'inference-worker',
    entryOf('inference-worker'),
    port,
    {
      NODE_ENV: 'development',
      ...storeEnv,
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: schema,
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_TOPIC_PREFIX: topicPrefix,
      METRICS_PORT: String(await freePort()),
    },
    args['keep-logs'] ? logDir : path.join(os.tmpdir(), run),
  );
  const bus = createKafkaBus({ brokers, clientId: 'bench-inference', prefix: topicPrefix, logger: createLogger('bench', 'warn') });
  const rows: string[] = [];
  try {
    await waitUntilReady(worker, 180_000);
    const start = await scrape(worker.metricsUrl);
    say(`serving: categoriser ${start.versions.categoriser}, anomaly ${start.versions.anomaly}`);
    // Warm-up: the consumers join their groups, JIT, the first profiles.
    await bus.publish('transactions.recorded.v1', Array.from({ length: 200 }, nextEvent));
    const until = async (count: number, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = await scrape(worker.metricsUrl);
        if (s.events >= count || Date.now() > deadline) return s;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    let handled = (await until(start.events + 200, 120_000)).events;

    const measure = async (name: string, target: string, publish: () => Promise<number>, drainMs: number) => {
      const before = await scrape(worker.metricsUrl);
      const t0 = performance.now();
      const sent = await publish();
      const publishSeconds = (performance.now() - t0) / 1000;
      const after = await until(handled + sent, drainMs);
      const seconds = (performance.now() - t0) / 1000;
      const done = after.events - before.events;
      handled = after.events;
      const p = (model: string, q: number) => quantile(before.buckets[model]!, after.buckets[model]!, q);
      const cell = (model: string) => `${p(model, 0.5).us.toFixed(0)} / ${p(model, 0.99).us.toFixed(0)}`;
      rows.push(
        `| ${name} | ${target} | ${(sent / publishSeconds).toFixed(0)} | ${sent} | ${done} | ${(done / seconds).toFixed(0)} | ${seconds.toFixed(1)} | ${cell('categoriser')} | ${cell('anomaly')} | ${p('anomaly', 0.99).n} | ${loadavg()} |`,
      );
      say(rows.at(-1));
    };

    say('');
    const header =
      '| scenario | target | published events/s | sent | handled | handled events/s (until drained) | seconds | categoriser p50 / p99 µs | anomaly p50 / p99 µs | anomaly scored | load average (1/5/15 min) |';
    say(header);
    say('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    if (burst > 0) {
      // Backlog: everything published at once; events/s = how fast the worker drains it.
      await measure(
        'burst (backlog drained)',
        'as fast as possible',
        async () => {
          for (let i = 0; i < burst; i += 500) await bus.publish('transactions.recorded.v1', Array.from({ length: Math.min(500, burst - i) }, nextEvent));
          return burst;
        },
        300_000,
      );
    }
    for (const rate of rates) {
      // Open loop: batches every 100 ms on a fixed schedule, whatever the worker does.
      await measure(
        `open loop ${durationS} s`,
        `${rate} events/s`,
        async () => {
          const started = performance.now();
          let sent = 0;
          while (performance.now() - started < durationS * 1000) {
            const due = Math.min(Math.floor(((performance.now() - started) / 1000) * rate), Math.round(durationS * rate));
            if (due > sent) {
              await bus.publish('transactions.recorded.v1', Array.from({ length: due - sent }, nextEvent));
              sent = due;
            }
            await new Promise((r) => setTimeout(r, 100));
          }
          return sent;
        },
        60_000,
      );
    }
    say('');
    say(`load average at end ${loadavg()}`);
  } finally {
    await bus.close().catch(() => undefined);
    await stopProcess(worker);
    // Leave nothing behind: the schema and the run's topics.
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`drop schema if exists "${schema}" cascade`).finally(() => client.end());
    const admin = new Kafka({ brokers, clientId: 'bench-inference-cleanup', logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(topicPrefix));
    if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  }
}

await main();
