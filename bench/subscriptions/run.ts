// One run of the bench: a fresh gateway, the load process with N clients, a warm-up and a
// measurement window, and the teardown; shared by the fan-out runs and the slow-client scenario.
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { TestAuth } from '@analytica/testing';
import { repoRoot, type ServiceProcess } from '../../dev/src/processes.js';
import type { ConnectionStats, FromLoad, LoadPlan, ToLoad, WindowReport } from './ipc.js';
import { metric, readMetrics, startSampler, type Metrics, type ProcessUsage } from './probe.js';
import type { FeedInstrument, TickPublisher } from './publisher.js';
import { fixed } from './report.js';
import { startGateway, stopProcess, type BenchEnvironment, type GatewaySettings } from './services.js';

/** What every client selects: `time` is where latency is measured from. */
export const SELECTION = 'symbol last change changePercent time';

export interface Options {
  clients: number[];
  duration: number;
  warmup: number;
  ramp: number;
  slowClient: boolean;
  inlineArguments: boolean;
  shape: 'quotes' | 'quote';
  seed: number;
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
  auth: TestAuth;
  market: ServiceProcess;
  supergraphPath: string;
  publisher: TickPublisher;
  instruments: FeedInstrument[];
  options: Options;
  redisPid?: number;
  /** Gateways and load processes running now: stopped by the cleanup if the bench is interrupted. */
  active: Set<{ gateway: ServiceProcess; load?: LoadProcess }>;
}

export interface Run {
  clients: number;
  gateway: ServiceProcess;
  load: LoadProcess;
  wsUrl: string;
  stats: ConnectionStats;
  subscribed: number;
  /** CPU while the clients connected and subscribed (token checks, authorisation, planning). */
  rampUsage: Record<string, ProcessUsage>;
}

export interface Measurement {
  window: WindowReport;
  stats: ConnectionStats;
  before: Metrics;
  after: Metrics;
  usage: Record<string, ProcessUsage>;
  machineBusyPercent: number;
  publisherLateP99Ms: number;
}

/** Tokens for a pool of users: one per client would cost ~1 ms of RSA signing each, for nothing. */
function tokenPool(auth: TestAuth, size: number): string[] {
  return Array.from({ length: size }, (_, i) => auth.tokenFor({ id: `bench-user-${i}` }));
}

export async function startRun(bench: Bench, clients: number, settings: GatewaySettings): Promise<Run> {
  log(`starting a gateway for ${clients} clients`);
  const gateway = await startGateway(bench.env, bench.supergraphPath, bench.market.url, settings);
  const load = forkLoad();
  const processes = { gateway, load };
  bench.active.add(processes);
  try {
    const wsUrl = `${gateway.url.replace('http', 'ws')}/graphql`;
    const sampler = startSampler({ gateway: gateway.child.pid!, market: bench.market.child.pid!, load: load.child.pid! });
    const stats = await openClients(bench, load, wsUrl, clients);
    const subscribed = await waitForSubscriptions(gateway, stats.subscribed);
    const rampUsage = sampler.stop().usage;
    log(`  during the ramp: gateway ${fixed(rampUsage.gateway?.cpuPercent)} %, market ${fixed(rampUsage.market?.cpuPercent)} %, load ${fixed(rampUsage.load?.cpuPercent)} % CPU`);
    return { clients, gateway, load, wsUrl, stats, subscribed, rampUsage };
  } catch (error) {
    await endRun(processes);
    bench.active.delete(processes);
    throw error;
  }
}

async function openClients(bench: Bench, load: LoadProcess, wsUrl: string, clients: number): Promise<ConnectionStats> {
  const plan: LoadPlan = {
    url: wsUrl,
    clients,
    rampPerSecond: bench.options.ramp,
    maxInFlight: 500,
    tokens: tokenPool(bench.auth, 200),
    symbols: bench.instruments.map((i) => i.symbol),
    minSymbols: 1,
    maxSymbols: 5,
    selection: SELECTION,
    inlineArguments: bench.options.inlineArguments,
    shape: bench.options.shape,
    seed: bench.options.seed,
    ackTimeoutMs: 15_000,
  };
  const progress = (message: { stats: ConnectionStats }) =>
    log(`  ${message.stats.attempted}/${clients} opened, ${message.stats.acked} acked, ${message.stats.neverAcked} never acked, ${message.stats.lost} lost`);
  load.events.on('progress', progress);
  load.send({ type: 'open', plan });
  try {
    const stats = await rampWithDeadline(load, rampDeadlineMs(clients, bench.options.ramp), plan.ackTimeoutMs);
    log(`  ${stats.acked}/${clients} acked in ${stats.rampSeconds.toFixed(1)} s (${stats.attempted} tried, ${stats.neverAcked} never acked, ${stats.subscribeErrors} subscribe errors)`);
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

/** The protocol has no "subscribed" answer: the gateway's gauge says when every one is set up. */
async function waitForSubscriptions(gateway: ServiceProcess, expected: number): Promise<number> {
  const deadline = Date.now() + 20_000;
  let active = 0;
  while (Date.now() < deadline) {
    active = metric(await readMetricsOrEmpty(gateway.url), 'subscriptions_active');
    if (active >= expected) break;
    await sleep(500);
  }
  log(`  ${active}/${expected} subscriptions active on the gateway`);
  return active;
}

export async function measure(bench: Bench, run: Run, seconds: number): Promise<Measurement> {
  const pids: Record<string, number> = { gateway: run.gateway.child.pid!, market: bench.market.child.pid!, load: run.load.child.pid!, bench: process.pid };
  if (bench.redisPid) pids.redis = bench.redisPid;
  const before = await readMetricsOrEmpty(run.gateway.url);
  bench.publisher.resetLateness();
  const sampler = startSampler(pids);
  run.load.send({ type: 'measure-start' });
  await sleep(seconds * 1000);
  run.load.send({ type: 'measure-stop' });
  const { report, stats } = await run.load.next('window', 30_000);
  const { usage, machineBusyPercent } = sampler.stop();
  const after = await readMetricsOrEmpty(run.gateway.url);
  return { window: report, stats, before, after, usage, machineBusyPercent, publisherLateP99Ms: bench.publisher.stats().lateP99Ms };
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

/** Clients close first (as they would), then the gateway stops with no connection left to drain. */
export async function endRun(run: { gateway: ServiceProcess; load?: LoadProcess }) {
  const { load } = run;
  if (load && load.child.exitCode === null && load.child.signalCode === null) {
    load.send({ type: 'close' });
    await load.next('closed', 20_000).catch(() => load.child.kill('SIGKILL'));
  }
  await stopProcess(run.gateway);
}

export async function finishRun(bench: Bench, run: Run) {
  await endRun(run);
  for (const processes of bench.active) if (processes.gateway === run.gateway) bench.active.delete(processes);
}

