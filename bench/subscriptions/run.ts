// One run of the bench: a fresh stack (as `npm run stack` starts it), the load process with N
// clients, a warm-up and a measurement window, and the teardown; shared by the fan-out runs and
// the slow-client scenario.
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '@analytica/random';
import { repoRoot } from './paths.js';
import type { ConnectionStats, FromLoad, LoadPlan, ToLoad, WindowReport } from './ipc.js';
import { listenOverflows, metric, readMetrics, startSampler, tcpRetransmits, type Metrics, type ProcessUsage } from './probe.js';
import { logOffsets, type LogOffsets } from './logs.js';
import { startProfiling, type CpuProfile } from './profile.js';
import { createTokenFactory, startBenchStack, type BenchEnvironment, type BenchStack, type TokenFactory } from './services.js';
import { startTickCounter, type TickCounter } from './ticks.js';

/** The README's subscription ("A first query"), with its symbols as a variable. */
export const QUERY = 'subscription($symbols: [String!]!) { quotes(symbols: $symbols) { symbol last changePercent time latestHeadline { title } } }';

export interface Options {
  clients: number[];
  duration: number;
  warmup: number;
  /** Seconds after the window's end during which messages stamped inside it still count. */
  grace: number;
  ramp: number;
  slowClient: boolean;
  seed: number;
  minSymbols: number;
  maxSymbols: number;
  /** CPU-profile this service of the stack (e.g. gateway, news) over each measurement window (its inspector, opened with SIGUSR1): a deviation. */
  profile?: string;
  /** Keep the stack's logs (and its scratch folder) after the run. */
  keepLogs: boolean;
  /** One stack for every client count instead of a fresh one per count (faster; the gateway's memory carries over). */
  oneStack: boolean;
  /** The feed shares its 200 ticks/s among the symbols by weight instead of 1 tick/s each on a beat. */
  weightedFeed: boolean;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const log = (message: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);

// ---------------------------------------------------------------------------------------------
// The load process

export interface LoadProcess {
  child: ChildProcess;
  send(message: ToLoad): void;
  /** The next message of this type; rejects if the process exits or time runs out first. */
  next<T extends FromLoad['type']>(type: T, timeoutMs: number): Promise<Extract<FromLoad, { type: T }>>;
  events: EventEmitter;
}

function forkLoad(): LoadProcess {
  const child = fork(fileURLToPath(new URL('./loadgen.ts', import.meta.url)), [], {
    cwd: repoRoot,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const events = new EventEmitter();
  child.on('message', (message: FromLoad) => events.emit(message.type, message));
  child.on('exit', (code) => events.emit('exit', code));
  return {
    child,
    events,
    send: (message) => child.send(message),
    async next(type, timeoutMs) {
      const signal = AbortSignal.timeout(timeoutMs);
      const exited = once(events, 'exit', { signal }).then(([code]) => {
        throw new Error(`the load process exited (${String(code)}) while waiting for "${type}"`);
      });
      const [message] = await Promise.race([once(events, type, { signal }), exited]);
      return message;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// One run

export interface Bench {
  env: BenchEnvironment;
  options: Options;
  symbols: string[];
  /** The feed's FEED_* settings. */
  feed: Record<string, string>;
  counter?: TickCounter;
  /** Redis and Kafka run outside the stack; found by name, only read. */
  infraPids: Record<string, number>;
  /** Stacks and load processes running now: stopped by the cleanup if the bench is interrupted. */
  active: Set<RunProcesses>;
  /** --one-stack: the stack every run uses. */
  sharedStack?: BenchStack;
}

export interface RunProcesses {
  stack: BenchStack;
  load?: LoadProcess;
  /** The stack outlives the run (--one-stack). */
  keepStack?: boolean;
}

export interface Run {
  clients: number;
  stack: BenchStack;
  load: LoadProcess;
  stats: ConnectionStats;
  /** subscriptions_active on the gateway once the ramp settled. */
  subscribed: number;
  /** CPU while the clients connected and subscribed (token checks, authorisation, planning). */
  rampUsage: Record<string, ProcessUsage>;
  tokenCheck: string;
  /** A token of one more distinct user, for the slow-client scenario. */
  slowToken: string;
  /** The clients' access tokens, in the plan's order, and what signed them (to renew them in a long run). */
  tokens: string[];
  factory: TokenFactory;
  /** Where the stack's log files ended before this run. */
  logsFrom: LogOffsets;
  /** TCP listen-queue overflows on the machine during the ramp. */
  rampListenOverflows: number;
}

export interface Measurement {
  window: WindowReport;
  stats: ConnectionStats;
  before: Metrics;
  after: Metrics;
  usage: Record<string, ProcessUsage>;
  machineBusyPercent: number;
  loadAverage: number[];
  feedTicks: number[];
  ingestPublished: number[];
  ingestLatencyMs: { p50: number; p99: number; max: number; count: number };
  /** TCP segments retransmitted on the machine during the window. */
  tcpRetransmits: number;
  counterCaughtUp: boolean;
  /** The profiled service's CPU profile over the window (--profile). */
  profile?: CpuProfile;
}

/** min..max distinct symbols per client, in feed order (a client lists its watchlist once, in one order). */
function symbolSets(count: number, symbols: number, min: number, max: number, seed: number): number[][] {
  const next = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const k = min + Math.floor(next() * (max - min + 1));
    const chosen = new Set<number>();
    while (chosen.size < k) chosen.add(Math.floor(next() * symbols));
    return [...chosen].sort((a, b) => a - b);
  });
}

/** Processes sampled for CPU and RSS: the whole stack, the load generator, the bench, Redis and Kafka. */
function pidsOf(bench: Bench, stack: BenchStack, load?: LoadProcess): Record<string, number> {
  return { ...stack.pids, ...(load?.child.pid ? { load: load.child.pid } : {}), bench: process.pid, ...bench.infraPids };
}

/** startStack and the demo seed; on a busy shared machine a service may miss startStack's 90 s readiness limit: one more try. */
async function bootStack(bench: Bench): Promise<BenchStack> {
  return startBenchStack(bench.env, bench.feed).catch(async (error: unknown) => {
    log(`  the stack did not start (${error instanceof Error ? error.message : String(error)}); trying once more in 10 s`);
    await sleep(10_000);
    return startBenchStack(bench.env, bench.feed);
  });
}

export async function startRun(bench: Bench, clients: number): Promise<Run> {
  const logsFrom = logOffsets(bench.env.logDir);
  let stack: BenchStack;
  if (bench.options.oneStack) {
    if (!bench.sharedStack) log('starting the stack once for every run (--one-stack: startStack, then the demo seed)');
    bench.sharedStack ??= await bootStack(bench);
    stack = bench.sharedStack;
    log(`run with ${clients} clients on the running stack`);
  } else {
    log(`starting the stack for ${clients} clients (startStack, then the demo seed)`);
    stack = await bootStack(bench);
  }
  const processes: RunProcesses = { stack, keepStack: bench.options.oneStack };
  bench.active.add(processes);
  try {
    log(`  stack ready in ${stack.startSeconds.toFixed(1)} s; gateway ${stack.gatewayUrl} (pid ${stack.gateway.child.pid})`);
    bench.counter ??= await startTickCounter({ topicPrefix: bench.env.topicPrefix, redisPrefix: bench.env.redisPrefix, symbols: bench.symbols, run: bench.env.run });
    const factory = await createTokenFactory(bench.env, stack.graphqlUrl);
    const signing = performance.now();
    // Client 0 uses the token the user service itself issued; the others are signed the same way.
    const [slowToken, ...signed] = factory.sign(clients);
    const tokens = [factory.registeredToken, ...signed];
    const c = factory.check;
    const tokenCheck =
      `1 user registered through the gateway + ${clients - 1} tokens for distinct user ids signed with the stack's key ` +
      `(kid ${c.kid}${c.sameKey ? ', the same key the user service signs with' : ', NOT the user service key'}; iss ${c.issuer}, aud ${c.audience}, ${c.ttlSeconds} s lifetime)`;
    log(`  ${tokens.length} tokens ready in ${((performance.now() - signing) / 1000).toFixed(1)} s`);
    const load = forkLoad();
    processes.load = load;
    const sampler = startSampler(pidsOf(bench, stack, load));
    const overflowsBefore = listenOverflows();
    const stats = await openClients(bench, stack, load, tokens);
    const rampListenOverflows = listenOverflows() - overflowsBefore;
    if (rampListenOverflows > 0) log(`  the kernel dropped ${rampListenOverflows} connection attempts during the ramp (TCP listen queue overflows, machine-wide)`);
    const subscribed = await waitForSubscriptions(stack.gatewayMetricsUrl, stats.subscribed);
    const rampUsage = sampler.stop().usage;
    const cpu = (name: string) => rampUsage[name]?.cpuPercent.toFixed(0) ?? '-';
    log(`  during the ramp: gateway ${cpu('gateway')} %, market ${cpu('market')} %, load ${cpu('load')} % CPU`);
    return { clients, stack, load, stats, subscribed, rampUsage, tokenCheck, slowToken: slowToken!, tokens, factory, logsFrom, rampListenOverflows };
  } catch (error) {
    await endRun(processes);
    bench.active.delete(processes);
    throw error;
  }
}

async function openClients(bench: Bench, stack: BenchStack, load: LoadProcess, tokens: string[]): Promise<ConnectionStats> {
  const clients = tokens.length;
  const plan: LoadPlan = {
    url: stack.wsUrl,
    tokens,
    symbols: bench.symbols,
    symbolSets: symbolSets(clients, bench.symbols.length, bench.options.minSymbols, bench.options.maxSymbols, bench.options.seed),
    query: QUERY,
    rampPerSecond: bench.options.ramp,
    ackTimeoutMs: 15_000,
  };
  const progress = (message: { stats: ConnectionStats }) =>
    log(`  ${message.stats.attempted}/${clients} opened, ${message.stats.acked} acked, ${message.stats.neverAcked} never acked, ${message.stats.lost} lost`);
  load.events.on('progress', progress);
  load.send({ type: 'open', plan });
  try {
    const stats = await rampWithDeadline(load, rampDeadlineMs(clients, bench.options.ramp), plan.ackTimeoutMs);
    log(
      `  ${stats.acked}/${clients} acked in ${stats.rampSeconds.toFixed(1)} s (${stats.attempted} tried, ${stats.neverAcked} never acked, ` +
        `${stats.subscribeErrors} subscribe errors, ack p50/p99 ${stats.ackMs.p50}/${stats.ackMs.p99} ms, ${stats.openedLate} opened late)`,
    );
    if (stats.firstSubscribeError) log(`  first subscribe error: ${stats.firstSubscribeError}`);
    return stats;
  } finally {
    load.events.off('progress', progress);
  }
}

/** The ramp may take 2.5 times its nominal time (at least 30 s); then the run goes on with whoever is connected. */
const rampDeadlineMs = (clients: number, perSecond: number) => Math.max(30_000, (clients / perSecond) * 2500);

async function rampWithDeadline(load: LoadProcess, deadlineMs: number, ackTimeoutMs: number): Promise<ConnectionStats> {
  try {
    return (await load.next('opened', deadlineMs)).stats;
  } catch (error) {
    if (!(error instanceof Error && error.name === 'AbortError')) throw error;
    log(`  the ramp did not finish within ${deadlineMs / 1000} s: no more connections; measuring those connected`);
    load.send({ type: 'stop-ramp' });
    return (await load.next('opened', ackTimeoutMs + 10_000)).stats;
  }
}

/** The protocol has no "subscribed" answer: the gateway's gauge says when every one is set up (or gone). */
async function waitForSubscriptions(metricsUrl: string, expected: number, direction: 'up' | 'down' = 'up'): Promise<number> {
  const deadline = Date.now() + 30_000;
  let active = 0;
  while (Date.now() < deadline) {
    active = metric(await readMetricsOrEmpty(metricsUrl), 'subscriptions_active');
    if (direction === 'up' ? active >= expected : active <= expected) break;
    await sleep(500);
  }
  log(`  ${active}/${expected} subscriptions active on the gateway`);
  return active;
}

/**
 * A window [from, to): messages are counted and timed by their Quote.time, the feed's ticks by
 * their exchange time, so both sides count the same ticks whenever they arrive. After `to` the
 * load generator keeps counting for `grace` seconds (a message later than that counts as lost).
 */
export async function measure(bench: Bench, run: Run, seconds: number): Promise<Measurement> {
  const profiled = bench.options.profile ? run.stack.pids[bench.options.profile] : undefined;
  if (bench.options.profile && !profiled) throw new Error(`--profile ${bench.options.profile}: no such process in the stack (${Object.keys(run.stack.pids).join(', ')})`);
  const profiler = profiled ? await startProfiling(profiled) : undefined;
  const from = Date.now() + 500;
  const to = from + seconds * 1000;
  run.load.send({ type: 'measure-start', from, to });
  await sleep(from - Date.now());
  const before = await readMetricsOrEmpty(run.stack.gatewayMetricsUrl);
  const sampler = startSampler(pidsOf(bench, run.stack, run.load));
  const retransmitsBefore = tcpRetransmits();
  await sleep(to - Date.now());
  const retransmits = tcpRetransmits() - retransmitsBefore;
  const { usage, machineBusyPercent } = sampler.stop();
  const profile = await profiler?.stop();
  const scrapeStarted = performance.now();
  const after = await readMetricsOrEmpty(run.stack.gatewayMetricsUrl);
  log(`  the gateway answered /metrics in ${(performance.now() - scrapeStarted).toFixed(0)} ms`);
  const loadAverage = readLoadAverage();
  const graceEnd = to + bench.options.grace * 1000;
  const counterCaughtUp = await bench.counter!.caughtUp(to, Math.max(graceEnd - Date.now(), 0) + 15_000);
  await sleep(Math.max(0, graceEnd - Date.now()));
  const feedTicks = bench.counter!.feedTicks(from, to);
  const ingestPublished = bench.counter!.ingestPublished(from, to);
  run.load.send({ type: 'measure-report', feedTicks, ingestPublished });
  const { report, stats } = await run.load.next('window', 30_000);
  return {
    window: report,
    stats,
    before,
    after,
    usage,
    machineBusyPercent,
    loadAverage,
    feedTicks,
    ingestPublished,
    ingestLatencyMs: bench.counter!.ingestLatency(from, to),
    tcpRetransmits: retransmits,
    counterCaughtUp,
    profile,
  };
}

export function readLoadAverage(): number[] {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}

/** An overloaded gateway may answer /metrics late: its figures then show as 0 rather than ending the bench. */
export async function readMetricsOrEmpty(url: string): Promise<Metrics> {
  try {
    return await readMetrics(url);
  } catch (error) {
    log(`  /metrics did not answer: ${String(error)}`);
    return new Map();
  }
}

/** Clients close first (as they would), then the stack stops with no connection left to drain. */
export async function endRun(run: RunProcesses) {
  const { load } = run;
  if (load && load.child.exitCode === null && load.child.signalCode === null) {
    load.send({ type: 'close' });
    await load.next('closed', 20_000).catch(() => load.child.kill('SIGKILL'));
  }
  if (!run.keepStack) await run.stack.stack.stop();
}

export async function finishRun(bench: Bench, run: Run) {
  await endRun({ stack: run.stack, load: run.load, keepStack: bench.options.oneStack });
  // With one stack for every run, the gateway's connections drain before the next run starts.
  if (bench.options.oneStack) await waitForSubscriptions(run.stack.gatewayMetricsUrl, 0, 'down');
  for (const processes of bench.active) if (processes.stack === run.stack) bench.active.delete(processes);
}

/** Redis and Kafka's broker, found by name in /proc (read only: they are the machine's, not the bench's). */
export function findInfraPids(): Record<string, number> {
  const found: Record<string, number> = {};
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm === 'redis-server') found.redis ??= Number(entry);
      else if (comm === 'java' && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('kafka.Kafka')) found.kafka ??= Number(entry);
      // The DynamoDB API server news keeps its articles in (infra/dynalite).
      else if (comm === 'node' && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('.bin/dynalite')) found.dynalite ??= Number(entry);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}
