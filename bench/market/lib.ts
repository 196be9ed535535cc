import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const say = (line = '') => process.stdout.write(`${line}\n`);

export interface Child {
  name: string;
  url: string;
  /** The private listener of GET /metrics. */
  metricsUrl: string;
  pid: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Runs a service's main.ts as its own process (as stack mode does), its log in `logDir`. */
export function startProcess(name: string, entry: string, port: number, env: Record<string, string>, logDir: string, nodeArgs: string[] = []): Child {
  mkdirSync(logDir, { recursive: true });
  // /metrics is on a private listener of its own (METRICS_PORT), never the public port.
  const metricsPort = env.METRICS_PORT ?? String(port + 5000 <= 65535 ? port + 5000 : port - 5000);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(repoRoot, entry)], {
    cwd: repoRoot,
    // Production mode, as deployed: graphql-js skips its development-time checks.
    env: { PATH: process.env.PATH, NODE_ENV: 'production', LOG_LEVEL: 'warn', ...env, PORT: String(port), METRICS_PORT: metricsPort },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(path.join(logDir, `${name}.log`));
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}`,
    pid: child.pid!,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function waitReady(child: Child, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) throw new Error(`${child.name} exited (${child.process.exitCode}); see its log`);
    try {
      if ((await fetch(`${child.url}/ready`, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${child.name} not ready within ${timeoutMs / 1000} s`);
}

/** Prometheus text as name{labels} → value. */
export async function scrape(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const name = line
      .slice(0, space)
      .replace(/service="[^"]*"/, '')
      .replace('{,', '{')
      .replace(',}', '}')
      .replace(',,', ',')
      .replace('{}', '');
    values.set(name, Number(line.slice(space + 1)));
  }
  return values;
}

/**
 * A quantile from a Prometheus histogram's cumulative buckets (the upper bound of the bucket that
 * holds it), over what was observed between two scrapes.
 */
export function histogramQuantile(before: Map<string, number>, after: Map<string, number>, name: string, q: number): number {
  const buckets = [...after]
    .filter(([k]) => k.startsWith(`${name}_bucket{`))
    .map(([k, v]) => [Number(/le="([^"]+)"/.exec(k)![1]!.replace('+Inf', 'Infinity')), v - (before.get(k) ?? 0)] as const)
    .sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  return buckets.find(([, count]) => count >= q * total)?.[0] ?? NaN;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux
/** CPU seconds a process has used so far (user + system), from /proc. */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** CPU seconds of a process and all its descendants (tsx runs the service in a child). */
export function treeCpuSeconds(pid: number): number {
  let total = cpuSeconds(pid);
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    for (const child of children) total += treeCpuSeconds(child);
  } catch {
    // gone
  }
  return total;
}

/** The machine's busy CPU seconds so far, all cores. */
export function machineBusySeconds(): number {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number) as number[];
  void idle;
  void iowait;
  return (user! + nice! + system! + irq! + softirq! + steal!) / TICKS_PER_SECOND;
}

/**
 * CPU seconds so far of the shared servers, each summed over its processes (PostgreSQL runs a
 * backend per connection): PostgreSQL, Redis, Zipkin, Kafka and dynalite, for a bench that must see every cost.
 */
export function sharedServerCpuSeconds(): { postgresql: number; redis: number; zipkin: number; kafka: number; dynalite: number } {
  const totals = { postgresql: 0, redis: 0, zipkin: 0, kafka: 0, dynalite: 0 };
  for (const entry of readdirSafe('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      const name =
        comm === 'postgres'
          ? 'postgresql'
          : comm === 'redis-server'
            ? 'redis'
            : comm === 'java'
              ? javaServer(readFileSync(`/proc/${entry}/cmdline`, 'utf8'))
              : comm.startsWith('node') && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('dynalite')
                ? 'dynalite'
                : undefined;
      const seconds = name ? cpuSeconds(Number(entry)) : NaN;
      if (name && Number.isFinite(seconds)) totals[name] += seconds;
    } catch {
      // exited meanwhile
    }
  }
  return totals;
}

const javaServer = (cmdline: string) => (cmdline.includes('zipkin') ? 'zipkin' : cmdline.includes('kafka.Kafka') ? 'kafka' : undefined);

/** Pids of the shared backing services, to show their share of the CPU (read only). */
export function backingServicePids(): Record<string, number | undefined> {
  const find = (pattern: RegExp) => {
    for (const entry of readdirSafe('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (pattern.test(readFileSync(`/proc/${entry}/cmdline`, 'utf8'))) return Number(entry);
      } catch {
        // gone
      }
    }
    return undefined;
  };
  return { kafka: find(/kafka\.Kafka/), redis: find(/^redis-server/), dynalite: find(/bin\/dynalite/) };
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** CPU seconds so far of every stack process (by name, with its children), the shared servers and this process. */
export function stackCpuSeconds(pids: Record<string, number>): Record<string, number> {
  const own = process.cpuUsage();
  return {
    ...Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, treeCpuSeconds(pid)])),
    ...sharedServerCpuSeconds(),
    'load generator': (own.user + own.system) / 1e6,
  };
}

/** What each process used between two readings of stackCpuSeconds over `seconds`, in % of one core, busiest first (1 % and more). */
export function cpuShares(before: Record<string, number>, after: Record<string, number>, seconds: number): { name: string; percent: number }[] {
  return Object.entries(after)
    .map(([name, used]) => ({ name, percent: ((used - before[name]!) / seconds) * 100 }))
    .filter((p) => Number.isFinite(p.percent) && p.percent >= 1)
    .sort((a, b) => b.percent - a.percent);
}

/** "gateway 50%, market 19%, ...; whole machine 185% of 200%". */
export const describeCpu = (shares: { name: string; percent: number }[], machinePercent: number) =>
  `${shares.map((p) => `${p.name} ${fmt(p.percent)}%`).join(', ')}; whole machine ${fmt(machinePercent)}% of ${os.cpus().length * 100}%`;
