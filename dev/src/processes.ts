import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const SUBGRAPHS = ['user', 'budget', 'market', 'news', 'payment', 'insight'] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];
/** The payment flow's processes beside the subgraphs: the bank simulator (started before them) and its workers (after them). */
export const PAYMENT_PROCESSES = ['bank-simulator', 'payments-worker', 'notifications-worker'] as const;
export type PaymentProcessName = (typeof PAYMENT_PROCESSES)[number];
/** The market data processes, started after the subgraphs: the ingest worker and the feed simulator. */
export const MARKET_PROCESSES = ['market-ingest', 'market-feed'] as const;
export type MarketProcessName = (typeof MARKET_PROCESSES)[number];
/** The model processes, started last: the inference worker (issue 13). */
export const MODEL_PROCESSES = ['inference-worker'] as const;
export type ModelProcessName = (typeof MODEL_PROCESSES)[number];
/** The news pipeline's processes (issue 14): the news-source simulator (started before the subgraphs) and the ingest worker (after them). */
export const NEWS_PROCESSES = ['news-sources', 'news-ingest'] as const;
export type NewsProcessName = (typeof NEWS_PROCESSES)[number];
export type ProcessName = SubgraphName | 'gateway' | PaymentProcessName | MarketProcessName | ModelProcessName | NewsProcessName;
export const DEFAULT_PORTS: Record<ProcessName, number> = {
  gateway: 4000,
  user: 4001,
  budget: 4002,
  market: 4003,
  news: 4004,
  payment: 4005,
  insight: 4006,
  'bank-simulator': 4020,
  'payments-worker': 4021,
  'notifications-worker': 4022,
  'inference-worker': 4023,
  'market-ingest': 4011,
  'market-feed': 4012,
  'news-sources': 4026,
  'news-ingest': 4027,
};

const PAYMENT_ENTRIES: Record<PaymentProcessName, string> = {
  'bank-simulator': 'infra/simulators/bank/src/main.ts',
  'payments-worker': 'workers/payments/src/main.ts',
  'notifications-worker': 'workers/notifications/src/main.ts',
};

const MARKET_ENTRIES: Record<MarketProcessName, string> = {
  'market-ingest': 'workers/market-ingest/src/main.ts',
  'market-feed': 'infra/simulators/market-feed/src/main.ts',
};

const MODEL_ENTRIES: Record<ModelProcessName, string> = {
  'inference-worker': 'workers/inference/src/main.ts',
};

const NEWS_ENTRIES: Record<NewsProcessName, string> = {
  'news-sources': 'infra/simulators/news-sources/src/main.ts',
  'news-ingest': 'workers/news-ingest/src/main.ts',
};

export function entryOf(name: ProcessName): string {
  if (name in PAYMENT_ENTRIES) return path.join(repoRoot, PAYMENT_ENTRIES[name as PaymentProcessName]);
  if (name in MARKET_ENTRIES) return path.join(repoRoot, MARKET_ENTRIES[name as MarketProcessName]);
  if (name in MODEL_ENTRIES) return path.join(repoRoot, MODEL_ENTRIES[name as ModelProcessName]);
  if (name in NEWS_ENTRIES) return path.join(repoRoot, NEWS_ENTRIES[name as NewsProcessName]);
  return path.join(repoRoot, name === 'gateway' ? 'gateway/src/main.ts' : `subgraphs/${name}/src/main.ts`);
}

export interface ServiceProcess {
  name: string;
  url: string;
  /** The private listener of GET /metrics (METRICS_PORT; never the public port). */
  metricsUrl: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

/** Where a service's /metrics listens when the caller names no METRICS_PORT: the services' own default. */
export const defaultMetricsPort = (port: number) => port + 5000;

/**
 * Runs one service as its own Node process (TypeScript through tsx). Output goes to the console
 * with a name prefix, or to `<logDir>/<name>.log`. Its /metrics listens on `env.METRICS_PORT`, or
 * on PORT + 5000 (never on a METRICS_PORT this process inherited, which every service would share).
 */
export function spawnService(
  name: string,
  entry: string,
  port: number,
  env: Record<string, string>,
  logDir?: string,
  options: { nice?: number; nodeFlags?: readonly string[] } = {},
): ServiceProcess {
  const metricsPort = env.METRICS_PORT ?? String(defaultMetricsPort(port));
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', 'tsx', entry], {
    cwd: repoRoot,
    env: { ...process.env, ...env, PORT: String(port), METRICS_PORT: metricsPort },
    // The IPC channel is how the service knows this process is alive: it stops when the channel
    // closes (packages/service stopOnSignals), so a stack killed outright leaves no process behind.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  // Background work (the log shipper) yields the CPU to the processes answering users when the
  // machine is busy; it gets as much as it likes when it is not.
  if (options.nice && child.pid) setPriority(child.pid, options.nice);
  if (logDir) {
    mkdirSync(logDir, { recursive: true });
    const file = createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' });
    child.stdout?.pipe(file);
    child.stderr?.pipe(file);
  } else {
    const prefix = `${name.padEnd(8)}| `;
    const relay = (stream: NodeJS.WritableStream) => (chunk: Buffer) => stream.write(chunk.toString().replace(/^(?=.)/gm, prefix));
    child.stdout?.on('data', relay(process.stdout));
    child.stderr?.on('data', relay(process.stderr));
  }
  // Nor does it keep this process running: when this one ends, the service ends with it.
  child.channel?.unref();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, url: `http://127.0.0.1:${port}`, metricsUrl: `http://127.0.0.1:${metricsPort}`, child, exited };
}

/** Resolves once GET /ready answers 200; rejects if the process exits or time runs out. */
export async function waitUntilReady(service: ServiceProcess, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void service.exited.then((code) => (exitCode = code));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`${service.name} exited with code ${exitCode} before it was ready`);
    try {
      const response = await fetch(`${service.url}/ready`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${service.name} was not ready within ${timeoutMs / 1000} s`);
}

export async function stopProcess(service: ServiceProcess, timeoutMs = 15_000): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  service.child.kill('SIGTERM');
  const timer = setTimeout(() => service.child.kill('SIGKILL'), timeoutMs);
  await service.exited;
  clearTimeout(timer);
}
