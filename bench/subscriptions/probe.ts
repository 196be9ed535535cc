// What the bench reads from outside the gateway: CPU and memory from /proc (so that the figures do
// not depend on the gateway reporting on itself) and the gateway's own counters from /metrics.
import { readFileSync } from 'node:fs';
import os from 'node:os';

const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

/** utime + stime of a process, in seconds; undefined once it has exited. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Resident memory of a process in MB (VmRSS). */
export function rssMb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Busy and total jiffies of the whole machine: other engineers' work shows up here. */
function machineJiffies(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0); // idle + iowait
  const total = values.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export interface ProcessUsage {
  /** Average over the sampling period, in % of one core (200 % = both cores of a 2-core machine). */
  cpuPercent: number;
  rssMbEnd: number;
  rssMbMax: number;
}

export interface Sample {
  /** Seconds since the sampler started. */
  t: number;
  rssMb: Record<string, number | undefined>;
  cpuPercent: Record<string, number>;
}

/**
 * Samples named processes every second: CPU from utime+stime deltas, RSS from VmRSS. Also the
 * machine's busy share of all cores, so that load from outside the bench is visible.
 */
export function startSampler(pids: Record<string, number>, intervalMs = 1000) {
  const names = Object.keys(pids);
  const startedAt = performance.now();
  const first = Object.fromEntries(names.map((n) => [n, cpuSeconds(pids[n]!) ?? 0]));
  const firstMachine = machineJiffies();
  const previous = { ...first };
  let previousAt = startedAt;
  const samples: Sample[] = [];
  const rssMax: Record<string, number> = {};

  const timer = setInterval(() => {
    const now = performance.now();
    const sample: Sample = { t: (now - startedAt) / 1000, rssMb: {}, cpuPercent: {} };
    for (const name of names) {
      const cpu = cpuSeconds(pids[name]!) ?? previous[name]!;
      sample.cpuPercent[name] = ((cpu - previous[name]!) / ((now - previousAt) / 1000)) * 100;
      previous[name] = cpu;
      const rss = rssMb(pids[name]!);
      sample.rssMb[name] = rss;
      if (rss !== undefined) rssMax[name] = Math.max(rssMax[name] ?? 0, rss);
    }
    previousAt = now;
    samples.push(sample);
  }, intervalMs);

  return {
    samples,
    /** Averages since start; call once at the end of the window. */
    stop(): { usage: Record<string, ProcessUsage>; machineBusyPercent: number } {
      clearInterval(timer);
      const seconds = (performance.now() - startedAt) / 1000;
      const usage: Record<string, ProcessUsage> = {};
      for (const name of names) {
        const cpu = cpuSeconds(pids[name]!) ?? previous[name]!;
        const rss = rssMb(pids[name]!) ?? 0;
        usage[name] = { cpuPercent: ((cpu - first[name]!) / seconds) * 100, rssMbEnd: rss, rssMbMax: Math.max(rssMax[name] ?? 0, rss) };
      }
      const machine = machineJiffies();
      const cores = os.cpus().length;
      const machineBusyPercent = ((machine.busy - firstMachine.busy) / (machine.total - firstMachine.total)) * 100 * cores;
      return { usage, machineBusyPercent };
    },
  };
}

export type Metrics = Map<string, number>;

/**
 * The series of a labelled metric, by the value of one label: e.g. `x_total{subgraph="news",service="gateway"}`
 * under "news". Answers [value, full series name] pairs, for `delta`.
 */
export function seriesByLabel(metrics: Metrics, name: string, label: string): [string, string][] {
  const pattern = new RegExp(`^${name}\\{(?:.*,)?${label}="([^"]*)"`);
  return [...metrics.keys()].flatMap((k): [string, string][] => {
    const value = pattern.exec(k)?.[1];
    return value === undefined ? [] : [[value, k]];
  });
}

/**
 * GET /metrics, summed per series name over its label sets. Histogram buckets keep their `le`
 * in the name (`subscription_delivery_seconds_bucket{le="0.01"}`) so that they can be read back.
 */
export async function readMetrics(baseUrl: string): Promise<Metrics> {
  const text = await (await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const metrics: Metrics = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const le = /le="([^"]+)"/.exec(match[2] ?? '')?.[1];
    const name = le ? `${match[1]}{le="${le}"}` : match[1]!;
    metrics.set(name, (metrics.get(name) ?? 0) + Number(match[3]));
    // Each labelled series is also kept under its full name, e.g. `x_total{subgraph="news"}`.
    if (match[2] && !le) metrics.set(`${match[1]}${match[2]}`, Number(match[3]));
  }
  return metrics;
}

export const metric = (metrics: Metrics, name: string) => metrics.get(name) ?? 0;

/** Increase of a counter between two readings. */
export const delta = (before: Metrics, after: Metrics, name: string) => metric(after, name) - metric(before, name);

/**
 * A percentile of a Prometheus histogram's increase between two readings, as the upper bound of
 * the bucket it falls in (so "≤ 5 ms", not an interpolation).
 */
export function histogramPercentile(before: Metrics, after: Metrics, name: string, percentile: number): number | undefined {
  const buckets = [...after.keys()]
    .filter((k) => k.startsWith(`${name}_bucket{le="`))
    .map((k) => ({ le: k.slice(name.length + 12, -2), count: delta(before, after, k) }))
    .map((b) => ({ le: b.le === '+Inf' ? Infinity : Number(b.le), count: b.count }))
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return undefined;
  return buckets.find((b) => b.count >= (total * percentile) / 100)?.le;
}

/**
 * The machine's TCP listen-queue overflows so far (`TcpExt ListenOverflows` in /proc/net/netstat):
 * connections the kernel refused because a server did not accept them fast enough. The client's
 * SYN is then retried after 1 s, 3 s, 7 s..., which shows as a slow connection_ack.
 */
export function listenOverflows(): number {
  return kernelCounter('/proc/net/netstat', 'TcpExt:', 'ListenOverflows');
}

/** TCP segments the machine sent again so far (`Tcp RetransSegs` in /proc/net/snmp): a late message on loopback may be one. */
export function tcpRetransmits(): number {
  return kernelCounter('/proc/net/snmp', 'Tcp:', 'RetransSegs');
}

/** One counter of a /proc/net table: a header line of names, then a line of values, both starting with `prefix`. */
function kernelCounter(file: string, prefix: string, name: string): number {
  try {
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith(prefix));
    const names = lines[0]!.split(/\s+/);
    const values = lines[1]!.split(/\s+/);
    return Number(values[names.indexOf(name)] ?? NaN);
  } catch {
    return NaN;
  }
}
