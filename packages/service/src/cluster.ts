import cluster, { type Worker } from 'node:cluster';
import client from 'prom-client';
import type { Logger } from '@analytica/logger';

/**
 * One service as several processes on one port (node:cluster), to use more than one core: the
 * primary forks the workers and does no request work itself; each worker runs the whole service
 * (`start`) and the primary hands each new connection to one of them in turn. Connections are
 * kept alive, so a client stays with its worker; each worker holds its own WebSockets, caches and
 * in-flight sharing, and what must be common (request budgets, revocations, events) is in Redis.
 *
 * The primary also answers GET /metrics for all: a worker asked for /metrics asks the primary,
 * which collects every worker's registry and aggregates them (prom-client's AggregatorRegistry:
 * counters and histograms summed), so a scrape sees the service, not whichever worker took the
 * connection.
 *
 * With `processes` 1 there is no primary: `start` runs in this process, as before.
 */
export interface ProcessesOptions {
  name: string;
  processes: number;
  logger: Logger;
  /** Starts the service in this process (a worker, or the only process). */
  start: () => Promise<void>;
}

const METRICS_REQUEST = 'analytica:cluster-metrics';
/** A worker that exits before it listened failed to start (bad configuration, a missing file): not a crash to recover from by starting another. */
const START_FAILURE = 'start failure';

interface MetricsMessage {
  type: typeof METRICS_REQUEST;
  id: number;
  text?: string;
  error?: string;
}

const isMetricsMessage = (message: unknown): message is MetricsMessage => (message as MetricsMessage | null)?.type === METRICS_REQUEST;

export async function runProcesses(options: ProcessesOptions): Promise<void> {
  if (options.processes <= 1 || cluster.isWorker) return options.start();
  runPrimary(options);
}

function runPrimary({ name, processes, logger }: ProcessesOptions) {
  // Listens for the workers' registries (prom-client adds its listeners when one is made).
  const aggregator = new client.AggregatorRegistry();
  /** Workers not yet exited, and which of them listen. */
  const live = new Set<Worker>();
  const listening = new Set<Worker>();
  let stopping = false;
  let exitCode = 0;

  const fork = () => {
    const worker = cluster.fork();
    live.add(worker);
    worker.on('listening', () => {
      if (listening.has(worker)) return; // the metrics listener too
      listening.add(worker);
      if (listening.size === processes) logger.info({ processes, pids: [...listening].map((w) => w.process.pid) }, `${name}: ${processes} processes listening`);
    });
    worker.on('message', (message: unknown) => {
      if (!isMetricsMessage(message)) return;
      aggregator.clusterMetrics().then(
        (text) => worker.isConnected() && worker.send({ type: METRICS_REQUEST, id: message.id, text }),
        (error: Error) => worker.isConnected() && worker.send({ type: METRICS_REQUEST, id: message.id, error: error.message }),
      );
    });
    worker.on('exit', (code, signal) => {
      live.delete(worker);
      const wasListening = listening.delete(worker);
      if (stopping) {
        if (!live.size) {
          logger.info(`${name}: every process stopped`);
          process.exit(exitCode);
        }
      } else if (!wasListening) {
        // It never served: every new one would fail the same way. Stop all, as one process would.
        logger.error({ pid: worker.process.pid, code, signal }, `${name}: a process exited before it listened (${START_FAILURE}); stopping`);
        stopAll(1);
      } else {
        // A crash while serving: its connections are lost, the others go on; a new one takes its place.
        logger.error({ pid: worker.process.pid, code, signal }, `${name}: a process exited while serving; starting another`);
        fork();
      }
    });
  };

  const stopAll = (code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    if (!live.size) process.exit(exitCode);
    // Each worker drains its own requests (stopOnSignals) and exits; the primary exits after the last.
    for (const worker of live) worker.process.kill('SIGTERM');
  };
  const onSignal = (signal: string) => {
    logger.info({ signal }, `${name}: stopping every process`);
    stopAll(0);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  if (process.channel) {
    // Started by another process (the stack) over IPC: its going away stops this one too.
    process.channel.unref();
    process.once('disconnect', () => onSignal('disconnect'));
  }
  logger.info({ processes }, `${name}: starting ${processes} processes`);
  for (let i = 0; i < processes; i++) fork();
}

let nextRequest = 0;
const pending = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();

/**
 * How a worker answers GET /metrics: the sum over every worker, from the primary. Outside a
 * cluster, the registry's own.
 */
export function metricsReader(registry: client.Registry): () => Promise<string> {
  if (!cluster.isWorker) return () => registry.metrics();
  // The primary collects from this registry (prom-client answers its requests once a registry of this kind exists here).
  client.AggregatorRegistry.setRegistries([registry]);
  new client.AggregatorRegistry();
  process.on('message', (message: unknown) => {
    if (!isMetricsMessage(message)) return;
    const request = pending.get(message.id);
    if (!request) return;
    pending.delete(message.id);
    clearTimeout(request.timer);
    if (message.text !== undefined) request.resolve(message.text);
    else request.reject(new Error(`the primary could not collect the metrics: ${message.error ?? 'no answer'}`));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = nextRequest++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('the primary did not answer for the metrics within 10 s'));
      }, 10_000);
      pending.set(id, { resolve, reject, timer });
      process.send?.({ type: METRICS_REQUEST, id });
    });
}
