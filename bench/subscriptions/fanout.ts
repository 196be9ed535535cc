// Subscription fan-out benchmark (issue 6, acceptance 3 and 4).
//
//   npx tsx bench/subscriptions/fanout.ts [--clients 1000,5000,10000] [--duration 30] [--slow-client]
//
// Starts the real market subgraph and a fresh gateway per run as separate processes, publishes
// 1 tick/s for each of 200 symbols on Redis, and opens N WebSocket clients from a separate load
// process, each subscribed to 1-5 of the symbols. For each N it prints one row: delivered
// messages/s, latency from the tick's exchange timestamp to receipt, lost connections, and the
// gateway's CPU and memory. `--slow-client` adds the scenario with one client that never reads.
// Everything it starts is stopped, and its Redis keys and DynamoDB tables deleted, at the end.
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createRedis, type Redis } from '@analytica/redis';
import { createTestAuth, services, uniqueName } from '@analytica/testing';
import { repoRoot } from '../../dev/src/processes.js';
import { startTickPublisher, type FeedInstrument } from './publisher.js';
import { DETAIL_HEADERS, MAIN_HEADERS, detailRow, fixed, mainRow, printTable, type Row } from './report.js';
import { SELECTION, endRun, finishRun, log, measure, sleep, startRun, type Bench, type Options } from './run.js';
import { createEnvironment, removeData, removeScratch, startMarket, stopProcess, writeMarketSupergraph, type GatewaySettings } from './services.js';
import { runSlowClient } from './slow-client.js';

const SYMBOLS = 200;
/** Normal runs: nothing here should ever be slow enough to be closed, so the limits are high. */
const RELAXED: GatewaySettings = { maxBufferedBytes: 1024 * 1024, slowClientCloseMs: 600_000 };

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      clients: { type: 'string', default: '1000,5000,10000' },
      duration: { type: 'string', default: '30' },
      warmup: { type: 'string', default: '5' },
      ramp: { type: 'string', default: '1000' },
      'slow-client': { type: 'boolean', default: false },
      'inline-args': { type: 'boolean', default: false },
      shape: { type: 'string', default: 'quotes' },
      seed: { type: 'string', default: '42' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'npx tsx bench/subscriptions/fanout.ts [--clients 1000,5000,10000|none] [--duration 30] [--warmup 5] [--ramp 1000] [--slow-client] [--inline-args] [--shape quotes|quote] [--seed 42]',
    );
    process.exit(0);
  }
  const positive = (name: string, value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive whole number, not "${value}"`);
    return n;
  };
  if (values.shape !== 'quotes' && values.shape !== 'quote') throw new Error(`--shape must be quotes or quote, not "${values.shape}"`);
  return {
    clients: values.clients === 'none' ? [] : values.clients.split(',').map((v) => positive('clients', v.trim())),
    duration: positive('duration', values.duration),
    warmup: positive('warmup', values.warmup),
    ramp: positive('ramp', values.ramp),
    slowClient: values['slow-client'],
    inlineArguments: values['inline-args'],
    shape: values.shape,
    seed: positive('seed', values.seed),
  };
}

// ---------------------------------------------------------------------------------------------
// Scenarios

async function runFanout(bench: Bench, clients: number): Promise<Row> {
  const run = await startRun(bench, clients, RELAXED);
  try {
    log(`  warm-up ${bench.options.warmup} s, then measuring ${bench.options.duration} s`);
    await sleep(bench.options.warmup * 1000);
    const m = await measure(bench, run, bench.options.duration);
    log(`  p50 ${m.window.latencyMs.p50} ms, p99 ${m.window.latencyMs.p99} ms, ${fixed(m.window.messages / m.window.seconds)} msg/s`);
    return { clients, m, rampUsage: run.rampUsage };
  } finally {
    await finishRun(bench, run);
  }
}

// ---------------------------------------------------------------------------------------------
// Setup and teardown

function referenceInstruments(count: number): FeedInstrument[] {
  const file = JSON.parse(readFileSync(path.join(repoRoot, 'subgraphs/market/data/instruments.json'), 'utf8')) as { instruments: FeedInstrument[] };
  return file.instruments.slice(0, count);
}

/** Redis's CPU is part of the picture (pub/sub to the gateway); found by name, only read. */
function findRedisPid(): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'redis-server') return Number(entry);
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}

function printHeader(options: Options) {
  const cpu = os.cpus();
  console.log(`# Subscription fan-out — ${new Date().toISOString()}`);
  console.log(`machine: ${cpu.length} cores (${cpu[0]?.model.trim()}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(
    `feed: ${SYMBOLS} symbols × 1 tick/s, spread evenly; clients: 1-5 random symbols each (seed ${options.seed}), ` +
      `${options.shape === 'quote' ? 'one quote(symbol: $symbol) per symbol' : `quotes(symbols: ${options.inlineArguments ? 'literal' : '$symbols'})`} { ${SELECTION} }; ramp ${options.ramp}/s; warm-up ${options.warmup} s; window ${options.duration} s\n`,
  );
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const auth = await createTestAuth();
  const env = await createEnvironment(uniqueName('bench_subs'), auth.env);
  const cleanups: (() => Promise<unknown>)[] = [() => auth.close()];
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const step of cleanups.reverse()) await step().catch((error: unknown) => log(`cleanup: ${String(error)}`));
    })());
  process.once('SIGINT', () => {
    log('interrupted: stopping everything and deleting the data');
    void cleanup()
      .then(() => removeScratch(env))
      .then(() => process.exit(130));
  });

  let failed = false;
  try {
    printHeader(options);
    log(`prefix ${env.name}; logs in ${env.dir}/logs`);
    cleanups.push(() => removeData(env).then(({ keys }) => log(`deleted ${keys} Redis keys and the ${env.tablePrefix}* tables`)));
    const market = await startMarket(env);
    cleanups.push(() => stopProcess(market));
    const { file: supergraphPath, added } = await writeMarketSupergraph(env, market.url);
    if (added.length) console.log(`note: schema/subgraphs/market.graphql differs from the subscription convention; the bench's supergraph adds ${added.join(', ')}\n`);
    const redis: Redis = createRedis(services.redisUrl, { name: 'bench-publisher' });
    cleanups.push(() => redis.quit());
    const instruments = referenceInstruments(SYMBOLS);
    const publisher = startTickPublisher(redis, env.redisPrefix, instruments);
    cleanups.push(async () => publisher.stop());
    const bench: Bench = { env, auth, market, supergraphPath, publisher, instruments, options, redisPid: findRedisPid(), active: new Set() };
    // Pushed last, so it runs first: clients and gateways go before the market and the data.
    cleanups.push(async () => {
      for (const processes of bench.active) await endRun(processes);
    });

    const rows: Row[] = [];
    for (const clients of options.clients) {
      rows.push(await runFanout(bench, clients));
    }
    if (rows.length) {
      console.log('\n### Fan-out\n');
      printTable(MAIN_HEADERS, rows.map(mainRow));
      console.log('\nwhere the time goes (CPU in % of one core; the machine has 2 cores = 200 %)\n');
      printTable(DETAIL_HEADERS, rows.map(detailRow));
    }
    if (options.slowClient) await runSlowClient(bench);
  } catch (error) {
    failed = true;
    log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    await cleanup();
    // A failed run keeps its scratch folder: the services' logs say why.
    if (!failed) await removeScratch(env);
  }
  process.exit(failed ? 1 : 0);
}

await main();
