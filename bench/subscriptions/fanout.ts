// Subscription fan-out benchmark, as shipped (issue 10, acceptance 1).
//
//   npx tsx bench/subscriptions/fanout.ts [--clients 1000,5000,10000] [--duration 20] [--slow-client]
//
// For each client count it starts the whole stack the way `npm run stack` does (dev/src/stack.ts
// `startStack`, then the demo seed): six subgraphs, the gateway on the committed
// schema/supergraph.graphql, market-ingest and the market feed at 1 tick/s per symbol for 200
// symbols (its own FEED_* variables). Ticks go feed -> Kafka -> market-ingest -> Redis -> gateway.
// A separate load process opens one WebSocket per client, each a different user, each subscribed
// with the README's subscription to 1-3 of the 200 symbols, at a fixed rate; latency is measured
// from each quote's `time` (when the feed stamped the tick) to its receipt, and delivery against
// the ticks the feed actually produced for the subscribed symbols (read back from Kafka).
// The bench patches nothing: no schema, no composition, no gateway setting. What differs from a
// plain `npm run stack`, it prints at the top.
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { uniqueName } from '@analytica/testing';
import { repoRoot } from './paths.js';
import { summariseLogs, type LogOffsets } from './logs.js';
import { metric } from './probe.js';
import { summariseProfile } from './profile.js';
import { CPU_HEADERS, FLOW_HEADERS, MAIN_HEADERS, TAIL_HEADERS, cpuRow, fixed, flowRow, mainRow, printTable, tailRow, type Row } from './report.js';
import { QUERY, endRun, findInfraPids, finishRun, log, measure, readLoadAverage, sleep, startRun, type Bench, type Options } from './run.js';
import { benchSymbols, createEnvironment, feedEnv, isolationEnv, provenance, removeData, removeScratch } from './services.js';
import { planSharing, type SharingDecision } from './shared.js';
import { runSlowClient } from './slow-client.js';

const SYMBOLS = 200;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      clients: { type: 'string', default: '1000,5000,10000' },
      duration: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '5' },
      grace: { type: 'string', default: '5' },
      ramp: { type: 'string', default: '500' },
      symbols: { type: 'string', default: '1-3' },
      'slow-client': { type: 'boolean', default: false },
      profile: { type: 'string' },
      'keep-logs': { type: 'boolean', default: false },
      'one-stack': { type: 'boolean', default: false },
      'weighted-feed': { type: 'boolean', default: false },
      seed: { type: 'string', default: '42' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'npx tsx bench/subscriptions/fanout.ts [--clients 1000,5000,10000|none] [--duration 20] [--warmup 5] [--grace 5] [--ramp 500] [--symbols 1-3] [--slow-client] [--profile gateway|news|…] [--keep-logs] [--one-stack] [--weighted-feed] [--seed 42]',
    );
    process.exit(0);
  }
  const positive = (name: string, value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive whole number, not "${value}"`);
    return n;
  };
  const range = /^(\d+)-(\d+)$/.exec(values.symbols);
  if (!range || Number(range[1]) < 1 || Number(range[1]) > Number(range[2]) || Number(range[2]) > 50)
    throw new Error(`--symbols must be a range such as 1-3 (at most 50), not "${values.symbols}"`);
  return {
    clients: values.clients === 'none' ? [] : values.clients.split(',').map((v) => positive('clients', v.trim())),
    duration: positive('duration', values.duration),
    warmup: positive('warmup', values.warmup),
    grace: positive('grace', values.grace),
    ramp: positive('ramp', values.ramp),
    slowClient: values['slow-client'],
    profile: values.profile,
    keepLogs: values['keep-logs'],
    oneStack: values['one-stack'],
    weightedFeed: values['weighted-feed'],
    seed: positive('seed', values.seed),
    minSymbols: Number(range[1]),
    maxSymbols: Number(range[2]),
  };
}

// ---------------------------------------------------------------------------------------------
// Scenarios

async function runFanout(bench: Bench, clients: number, sharing: SharingDecision): Promise<Row> {
  const run = await startRun(bench, clients);
  try {
    if (clients === bench.options.clients[0]) console.log(`tokens: ${run.tokenCheck}\n`);
    log(`  warm-up ${bench.options.warmup} s, then measuring ${bench.options.duration} s (+${bench.options.grace} s for stragglers)`);
    await sleep(bench.options.warmup * 1000);
    const m = await measure(bench, run, bench.options.duration);
    const w = m.window;
    log(
      `  delivered ${w.delivered}/${w.expectedFromFeed} of the feed's ticks, p50 ${w.latencyMs.p50} ms, p99 ${w.latencyMs.p99} ms, max ${w.latencyMs.max} ms, ` +
        `gateway ${fixed(m.usage.gateway?.cpuPercent)} % CPU, load average ${m.loadAverage.map((l) => l.toFixed(2)).join(' ')}`,
    );
    if (!m.counterCaughtUp) log('  warning: the Kafka tick counter had not read every partition past the window: "delivered" may be overstated');
    const executions = metric(m.after, 'subscription_executions_active');
    const distinctSymbols = w.subscribersPerSymbol.filter((n) => n > 0).length;
    if (sharing.shared === true && executions > distinctSymbols) log(`  note: ${executions} executions for ${distinctSymbols} symbols: not shared per symbol as planned`);
    if (m.profile) await keepProfile(bench, clients, m.profile);
    const row: Row = { clients, m, rampUsage: run.rampUsage, shared: String(sharing.shared), rampListenOverflows: run.rampListenOverflows };
    await finishRun(bench, run);
    const idle = Object.entries(m.usage).filter(([name]) => !['gateway', 'market', 'news', 'market-ingest', 'market-feed', 'redis', 'kafka', 'load', 'bench'].includes(name));
    notes.push(`${clients} clients, rest of stack CPU %: ${idle.map(([name, u]) => `${name} ${fixed(u.cpuPercent)}`).join(', ')}`);
    notes.push(...logNotes(bench, run.logsFrom, clients));
    return row;
  } catch (error) {
    await finishRun(bench, run);
    throw error;
  }
}

/** Per run: warnings and errors of the services on the live-quote path (the stack's log files, from the run's start to its stop). */
const notes: string[] = [];
const LIVE_PATH = ['gateway', 'market', 'news', 'market-ingest', 'market-feed', 'user'];
function logNotes(bench: Bench, since: LogOffsets, clients: number): string[] {
  return summariseLogs(bench.env.logDir, since)
    .filter((s) => LIVE_PATH.includes(s.service) && s.warnings + s.errors > 0)
    .map(
      (s) => `${clients} clients, ${s.service}: ${s.warnings} warnings, ${s.errors} errors (${s.lines} lines); most frequent: ${s.top.map(([m, n]) => `${n}× ${m}`).join('; ')}`,
    );
}

/** Saves the profile under .data/bench-profiles/ and prints where the time went. */
async function keepProfile(bench: Bench, clients: number, profile: NonNullable<Row['m']['profile']>) {
  const dir = path.join(repoRoot, '.data/bench-profiles', bench.env.run);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${bench.options.profile}-${clients}.cpuprofile`);
  await writeFile(file, JSON.stringify(profile));
  console.log(`\n### CPU profile of ${bench.options.profile}, ${clients} clients (${path.relative(repoRoot, file)})\n`);
  console.log(summariseProfile(profile, 15));
  console.log('');
}

// ---------------------------------------------------------------------------------------------
// Header: what runs, and everything that is not as shipped

async function printHeader(bench: Bench, sharing: SharingDecision): Promise<void> {
  const { options, env } = bench;
  const cpu = os.cpus();
  const origin = await provenance();
  console.log(`# Subscription fan-out, as shipped — ${new Date().toISOString()}`);
  console.log(
    `machine: ${cpu.length} cores (${cpu[0]?.model.trim()}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, load average ${readLoadAverage()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `system: git ${origin.head}; dev/src/stack.ts startStack (six subgraphs, gateway on schema/supergraph.graphql, market-feed, market-ingest, bank simulator, payment and notification workers), then the demo seed, as npm run stack`,
  );
  console.log(`subscription: ${QUERY}`);
  console.log(
    `clients: one WebSocket and one user each, ${options.minSymbols}-${options.maxSymbols} of the ${bench.symbols.length} symbols each (seed ${options.seed}); ramp ${options.ramp} connections/s (open loop)`,
  );
  const feed = Object.entries(bench.feed).map(
    ([k, v]) => `${k}=${k.endsWith('SYMBOLS') ? `<${bench.symbols.length} symbols: ${bench.symbols.slice(0, 3).join(',')},…,${bench.symbols.at(-1)}>` : v}`,
  );
  console.log(`feed configuration (the simulator's own documented variables): ${feed.join(' ')}`);
  console.log(`window: warm-up ${options.warmup} s, then ${options.duration} s counted by Quote.time, + ${options.grace} s for late messages`);
  const isolation = Object.entries(isolationEnv(env)).map(([k, v]) => `${k}=${v}`);
  console.log(`isolation (where it runs, not how; as the e2e suite runs startStack): free ports, schemaPrefix=${env.schemaPrefix}, ${isolation.join(' ')}`);
  const planned =
    sharing.shared === 'unknown'
      ? `unknown (${sharing.note})`
      : `shared: ${sharing.shared}, owner ${sharing.owner}, per-event fetches to ${sharing.perEventFetches?.join(', ') || 'none'}`;
  console.log(`planner (gateway/src/subscriptions/planner.ts over schema/supergraph.graphql): ${planned}`);

  const deviations: string[] = [];
  if (origin.supergraphChanged) deviations.push('schema/supergraph.graphql in the working tree differs from the committed one');
  for (const variable of origin.inheritedEnv) deviations.push(`inherited from the shell by every service: ${variable}`);
  if (options.profile) deviations.push(`--profile ${options.profile}: that service runs with its inspector open and V8's sampling profiler on during each window (costs it CPU)`);
  console.log(`\ndeviations from the shipped code and defaults: ${deviations.length ? '' : 'none (no schema patch, no composition, no gateway variable set)'}`);
  for (const d of deviations) console.log(`  DEVIATION: ${d}`);
  if (origin.uncommitted.length) {
    console.log(
      `  NOT COMMITTED: the shared working tree differs from ${origin.head} in ${origin.uncommitted.length} file(s) of the system under test; they are measured as they are now:`,
    );
    console.log(`    ${origin.uncommitted.join(', ')}`);
  }
  console.log('');
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const env = await createEnvironment(uniqueName('bench_subs'));
  const symbols = await benchSymbols(SYMBOLS);
  const bench: Bench = { env, options, symbols, feed: feedEnv(symbols, options.weightedFeed), infraPids: findInfraPids(), active: new Set() };
  const cleanups: (() => Promise<unknown>)[] = [];
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
    const sharing = await planSharing(QUERY);
    await printHeader(bench, sharing);
    log(`run ${env.run}; logs in ${env.logDir}`);
    cleanups.push(() => removeData(env).then((what) => log(`deleted ${what}`)));
    cleanups.push(async () => bench.counter?.stop());
    cleanups.push(async () => bench.sharedStack?.stack.stop());
    // Pushed last, so it runs first: clients and stacks go before the data.
    cleanups.push(async () => {
      for (const processes of bench.active) await endRun(processes);
    });

    const rows: Row[] = [];
    for (const clients of options.clients) {
      rows.push(await runFanout(bench, clients, sharing));
      bench.counter?.trim(Date.now() - 60_000);
    }
    if (rows.length) {
      console.log('\n### Fan-out\n');
      printTable(MAIN_HEADERS, rows.map(mainRow));
      console.log('\nwhere the messages go\n');
      printTable(FLOW_HEADERS, rows.map(flowRow));
      console.log('\nwhere the CPU goes (% of one core over the window; the machine has 2 cores = 200 %)\n');
      printTable(CPU_HEADERS, rows.map(cpuRow));
      console.log("\nwhere the tail is (seconds of the window by Quote.time; the gateway's pauses over the window)\n");
      printTable(TAIL_HEADERS, rows.map(tailRow));
    }
    if (notes.length) {
      console.log('\nnotes: the CPU of the rest of the stack, and what the live-path services logged (warnings and errors; all logs: --keep-logs)\n');
      for (const note of notes) console.log(`- ${note}`);
    }
    if (options.slowClient) await runSlowClient(bench);
  } catch (error) {
    failed = true;
    log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    await cleanup();
    // A failed run keeps its scratch folder: the services' logs say why.
    if (!failed && !options.keepLogs) await removeScratch(env);
    else log(`logs kept in ${env.logDir}`);
  }
  process.exit(failed ? 1 : 0);
}

await main();
