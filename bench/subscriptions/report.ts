// The tables the bench prints (GitHub-flavoured markdown, so they paste into an issue as they are).
import { delta, histogramPercentile, metric, seriesByLabel, type ProcessUsage } from './probe.js';
import type { Measurement } from './run.js';

export const fixed = (value: number | undefined, digits = 0) => (value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits));
/** A histogram bucket bound in seconds, shown as "≤ N ms". */
export const ms = (seconds: number | undefined) => (seconds === undefined ? '-' : seconds === Infinity ? '>1000' : `≤${seconds * 1000}`);
const percent = (part: number, whole: number, digits = 2) => (whole > 0 ? `${fixed((part / whole) * 100, digits)} %` : '-');
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export interface Row {
  clients: number;
  m: Measurement;
  rampUsage: Record<string, ProcessUsage>;
  /** The planner's decision for the subscription (true / false / unknown). */
  shared: string;
  /** TCP listen-queue overflows on the machine during the ramp. */
  rampListenOverflows: number;
}

export function printTable(headers: string[], rows: string[][]) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`;
  console.log(line(headers));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

export const MAIN_HEADERS = [
  'clients',
  'connected',
  'delivered (of feed ticks)',
  'of ingest publishes',
  'p50 ms',
  'p99 ms',
  'max ms',
  'gateway CPU %',
  'gateway RSS MB',
  'distinct executions',
  'shared',
  'lost / never acked',
  'load avg (1 min)',
];

export function mainRow({ clients, m, shared }: Row): string[] {
  const { window: w, stats, after, usage } = m;
  return [
    String(clients),
    String(stats.acked - stats.lost),
    percent(w.delivered, w.expectedFromFeed),
    percent(w.delivered, w.expectedFromIngest),
    String(w.latencyMs.p50),
    String(w.latencyMs.p99),
    String(w.latencyMs.max),
    fixed(usage.gateway?.cpuPercent),
    fixed(usage.gateway?.rssMbMax),
    String(metric(after, 'subscription_executions_active')),
    shared,
    `${stats.lost} / ${stats.neverAcked}`,
    fixed(m.loadAverage[0], 2),
  ];
}

export const FLOW_HEADERS = [
  'clients',
  'subscribed (gateway)',
  'feed ticks/s (all 200)',
  'ingest publishes / feed ticks',
  'expected msgs',
  'delivered msgs',
  'msgs/s',
  'feed→Redis p50 / p99 / max ms',
  'gw event→handed p99 ms',
  'executions/s',
  'subgraph fetches/s',
  'coalesced',
  'dropped',
  'clients short / silent',
  'errors / null headline',
  'stale arrivals',
  'headline updates (same tick)',
  'close codes (not by the bench)',
];

export function flowRow({ clients, m }: Row): string[] {
  const { window: w, stats, before, after } = m;
  const seconds = (w.to - w.from) / 1000;
  const feed = sum(m.feedTicks);
  return [
    String(clients),
    String(metric(after, 'subscriptions_active')),
    fixed(feed / seconds, 1),
    percent(sum(m.ingestPublished), feed, 1),
    String(w.expectedFromFeed),
    String(w.delivered),
    fixed(w.delivered / seconds),
    `${m.ingestLatencyMs.p50} / ${m.ingestLatencyMs.p99} / ${m.ingestLatencyMs.max}`,
    ms(histogramPercentile(before, after, 'subscription_delivery_seconds', 99)),
    fixed(delta(before, after, 'subscription_executions_total') / seconds),
    subgraphFetches(m, seconds),
    fixed(delta(before, after, 'subscription_events_coalesced_total')),
    fixed(delta(before, after, 'subscription_messages_dropped_total')),
    `${w.clientsShort} / ${w.silentClients}`,
    `${w.messagesWithErrors} / ${w.nullHeadlines}`,
    String(w.staleArrivals),
    String(w.repeats),
    Object.entries(stats.closeCodes)
      .map(([code, n]) => `${code}×${n}`)
      .join(' ') || '-',
  ];
}

/** Requests the subscription engine sent to each subgraph (`subscription_subgraph_fetches_total`), per second. */
function subgraphFetches(m: Measurement, seconds: number): string {
  const series = seriesByLabel(m.after, 'subscription_subgraph_fetches_total', 'subgraph');
  if (!series.length) return '-';
  return series.map(([subgraph, key]) => `${subgraph} ${fixed(delta(m.before, m.after, key) / seconds, 1)}`).join(', ');
}

/** `_entities` requests the subscription engine sent to news over the window. */
function newsFetches(m: Measurement): number {
  const key = seriesByLabel(m.after, 'subscription_subgraph_fetches_total', 'subgraph').find(([subgraph]) => subgraph === 'news')?.[1];
  return key ? delta(m.before, m.after, key) : NaN;
}

/** The stack's processes that are idle in this scenario are summed into one column. */
const NAMED = ['gateway', 'market', 'news', 'market-ingest', 'market-feed', 'redis', 'kafka', 'load', 'bench'];

export const CPU_HEADERS = [
  'clients',
  'gw CPU µs/msg',
  'gw CPU ms/execution',
  'market',
  'news',
  'news CPU ms/fetch',
  'ingest',
  'feed',
  'redis',
  'kafka',
  'rest of stack',
  'load gen / loop p99 ms',
  'bench',
  'machine busy (of 200) / not the bench',
  'ramp s / opened late / listen drops / gw CPU %',
  'ack p50 / p99 ms',
  'first value p50 / p99 ms',
];

export function cpuRow({ clients, m, rampUsage, rampListenOverflows }: Row): string[] {
  const { window: w, usage, stats } = m;
  const seconds = (w.to - w.from) / 1000;
  const rest = Object.entries(usage).filter(([name]) => !NAMED.includes(name));
  const benchTotal = sum(Object.values(usage).map((u) => u.cpuPercent)) - (usage.redis?.cpuPercent ?? 0) - (usage.kafka?.cpuPercent ?? 0);
  const cpu = (name: string) => fixed(usage[name]?.cpuPercent);
  return [
    String(clients),
    fixed(((usage.gateway?.cpuPercent ?? NaN) / 100 / (w.delivered / seconds)) * 1e6),
    fixed(((usage.gateway?.cpuPercent ?? NaN) / 100 / (delta(m.before, m.after, 'subscription_executions_total') / seconds)) * 1e3, 2),
    cpu('market'),
    cpu('news'),
    fixed(((usage.news?.cpuPercent ?? NaN) / 100 / (newsFetches(m) / seconds)) * 1e3, 2),
    cpu('market-ingest'),
    cpu('market-feed'),
    cpu('redis'),
    cpu('kafka'),
    fixed(sum(rest.map(([, u]) => u.cpuPercent))),
    `${cpu('load')} / ${fixed(w.loadLoopDelayP99Ms, 1)}`,
    cpu('bench'),
    // Redis and Kafka serve the stack too: "not the bench" is everything else on the machine.
    `${fixed(m.machineBusyPercent)} / ${fixed(m.machineBusyPercent - benchTotal - (usage.redis?.cpuPercent ?? 0) - (usage.kafka?.cpuPercent ?? 0))}`,
    `${fixed(stats.rampSeconds, 1)} / ${stats.openedLate} / ${fixed(rampListenOverflows)} / ${fixed(rampUsage.gateway?.cpuPercent)}`,
    `${stats.ackMs.p50} / ${stats.ackMs.p99}`,
    `${stats.firstValueMs.p50} / ${stats.firstValueMs.p99}`,
  ];
}

export const TAIL_HEADERS = [
  'clients',
  'seconds with a message over 250 ms',
  'slowest seconds (second of the window: max ms, share over 250 ms)',
  'gw GC ms minor / major / incremental',
  'gw longest GC pause ms',
  'gw event→handed max ms',
  'gw subgraph fetch p99 / max ms',
  'gw event-loop delay p99 / max ms',
  'TCP retransmits',
  'slowest ticks (symbol Quote.time: late of subscribers, max ms)',
];

/** GC time of one kind in the window, from the gateway's `nodejs_gc_duration_seconds` (prom-client). */
function gcMs(m: Measurement, kind: string): string {
  const key = seriesByLabel(m.after, 'nodejs_gc_duration_seconds_sum', 'kind').find(([k]) => k === kind)?.[1];
  return key ? fixed(delta(m.before, m.after, key) * 1000) : '-';
}

/**
 * Where the tail is: is it a few bad seconds (a pause somewhere on the path) or spread over the
 * window (a queue)? The gateway's own pauses are shown beside it.
 */
export function tailRow({ clients, m }: Row): string[] {
  const seconds = m.window.perSecond;
  const over = seconds.map((s, i) => ({ ...s, i })).filter((s) => s.max > 250);
  const slowest = [...over]
    .sort((a, b) => b.max - a.max)
    .slice(0, 4)
    .map((s) => `${s.i}: ${s.max}, ${percent(s.overAim, s.count, 1)}`);
  // prom-client resets its event-loop histogram at each scrape: `after` covers the window.
  const lag = (name: string) => fixed(metric(m.after, name) * 1000, 1);
  return [
    String(clients),
    `${over.length} of ${seconds.length}`,
    slowest.join('; ') || '-',
    `${gcMs(m, 'minor')} / ${gcMs(m, 'major')} / ${gcMs(m, 'incremental')}`,
    ms(histogramPercentile(m.before, m.after, 'nodejs_gc_duration_seconds', 100)),
    ms(histogramPercentile(m.before, m.after, 'subscription_delivery_seconds', 100)),
    `${ms(histogramPercentile(m.before, m.after, 'subscription_subgraph_fetch_seconds', 99))} / ${ms(histogramPercentile(m.before, m.after, 'subscription_subgraph_fetch_seconds', 100))}`,
    `${lag('nodejs_eventloop_lag_p99_seconds')} / ${lag('nodejs_eventloop_lag_max_seconds')}`,
    String(m.tcpRetransmits),
    m.window.lateTicks.map((t) => `${t.symbol} ${t.time.slice(11, 23)}: ${t.messages} of ${t.subscribers}, ${t.max}`).join('; ') || '-',
  ];
}
