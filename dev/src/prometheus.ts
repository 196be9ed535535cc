// Prometheus in stack mode (issue 16): Debian's package, run as a process of the stack (never its
// systemd unit), scraping every service's private /metrics listener every 5 s with the alert rules
// of infra/prometheus/alerts.yml. infra/up.sh installs the package when it is missing.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot } from './processes.js';

/** The rule file every stack loads; promtool checks it in infra/prometheus/prometheus.test.ts. */
export const ALERT_RULES_FILE = path.join(repoRoot, 'infra/prometheus/alerts.yml');

export interface ScrapeTarget {
  /** The stack's name of the process (`budget`, `gateway-2`): the `service` label of `up` and of the alert. */
  service: string;
  /** http://host:port of its private /metrics listener. */
  metricsUrl: string;
}

export interface PrometheusOptions {
  /** 9090 for npm run stack; a free port in tests. */
  port: number;
  targets: ScrapeTarget[];
  /** Where prometheus.yml, its data (TSDB) and its log live. */
  dir: string;
  /** Scrape and rule evaluation interval in seconds (5). */
  intervalSeconds?: number;
  /** The binary: PROMETHEUS_BIN, or prometheus on the PATH, or /usr/bin/prometheus. */
  bin?: string;
  /** Remove `dir` (the TSDB with it) on stop: a test stack's metrics are of no use afterwards. */
  ephemeral?: boolean;
}

export interface RunningPrometheus {
  /** http://127.0.0.1:<port>: the HTTP API (/api/v1/alerts) and Prometheus' own web page. */
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Debian's `prometheus` (or `promtool` with name), or undefined when it is not installed. */
export function findPrometheusTool(name: 'prometheus' | 'promtool' = 'prometheus', explicit = name === 'prometheus' ? process.env.PROMETHEUS_BIN : undefined): string | undefined {
  if (explicit) return explicit;
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/local/bin'])) {
    const candidate = path.join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * prometheus.yml: one job, `analytica`, a static target per process with its stack name as the
 * `service` label. honor_labels keeps the `service` label each service puts on its own metrics
 * (the same name, except that a second gateway calls itself `gateway`), instead of renaming it.
 */
export function prometheusConfig(options: { targets: ScrapeTarget[]; rulesFile: string; intervalSeconds: number }): string {
  const targets = options.targets
    .map(({ service, metricsUrl }) => {
      const url = new URL(metricsUrl);
      return `      - targets: ['${url.host}']\n        labels: { service: '${service}' }`;
    })
    .join('\n');
  return `# Made by dev/src/prometheus.ts at every start of stack mode: edit that file, not this one.
global:
  scrape_interval: ${options.intervalSeconds}s
  evaluation_interval: ${options.intervalSeconds}s
  scrape_timeout: ${Math.max(1, options.intervalSeconds - 1)}s
rule_files:
  - ${JSON.stringify(options.rulesFile)}
scrape_configs:
  - job_name: analytica
    metrics_path: /metrics
    honor_labels: true
    static_configs:
${targets}
`;
}

/** Starts Prometheus and resolves once its /-/ready answers; rejects if it exits or is not ready in 30 s. */
export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const bin = options.bin ?? findPrometheusTool();
  if (!bin) throw new Error("Prometheus is not installed: run npm run infra:up (it installs Debian's prometheus package), or set PROMETHEUS_BIN.");
  const dataDir = path.join(options.dir, 'data');
  await mkdir(dataDir, { recursive: true });
  const configFile = path.join(options.dir, 'prometheus.yml');
  await writeFile(configFile, prometheusConfig({ targets: options.targets, rulesFile: ALERT_RULES_FILE, intervalSeconds: options.intervalSeconds ?? 5 }));
  const url = `http://127.0.0.1:${options.port}`;
  const child = spawn(
    bin,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dataDir}`,
      // A development stack keeps two days; nothing here is meant to be kept for long.
      '--storage.tsdb.retention.time=2d',
      `--web.listen-address=127.0.0.1:${options.port}`,
      '--log.format=json',
    ],
    { cwd: options.dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = createWriteStream(path.join(options.dir, 'prometheus.log'), { flags: 'a' });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    log.end();
    if (options.ephemeral) await rm(options.dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`Prometheus exited with code ${exitCode} at start: see ${path.join(options.dir, 'prometheus.log')}`);
    try {
      const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return { url, process: child, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`Prometheus was not ready on ${url} within 30 s: see ${path.join(options.dir, 'prometheus.log')}`);
}
