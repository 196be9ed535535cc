// The tables the bench prints (GitHub-flavoured markdown, so they paste into an issue as they are).
import { delta, histogramPercentile, metric, type ProcessUsage } from './probe.js';
import type { Measurement } from './run.js';

export const fixed = (value: number | undefined, digits = 0) => (value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits));
/** A histogram bucket bound in seconds, shown as "≤ N ms". */
export const ms = (seconds: number | undefined) => (seconds === undefined ? '-' : seconds === Infinity ? '>1000' : `≤${seconds * 1000}`);

export interface Row {
  clients: number;
  m: Measurement;
  rampUsage: Record<string, ProcessUsage>;
}

export function printTable(headers: string[], rows: string[][]) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`;
  console.log(line(headers));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

export function mainRow({ clients, m }: Row): string[] {
  const { window: w, stats, after, usage } = m;
  return [
    String(clients),
    String(metric(after, 'subscriptions_active')),
    String(metric(after, 'subscription_executions_active')),
    fixed(w.messages / w.seconds),
    `${fixed((w.messages / w.seconds / w.expectedPerSecond) * 100, 1)} %`,
    String(w.latencyMs.p50),
    String(w.latencyMs.p99),
    String(w.latencyMs.max),
    String(stats.lost),
    String(stats.neverAcked),
    fixed(usage.gateway?.cpuPercent),
    fixed(usage.gateway?.rssMbMax),
  ];
}
export const MAIN_HEADERS = ['clients', 'subscriptions', 'distinct executions', 'delivered msg/s', 'of expected', 'p50 ms', 'p99 ms', 'max ms', 'lost conns', 'never acked', 'gateway CPU %', 'gateway RSS MB'];

export function detailRow({ clients, m, rampUsage }: Row): string[] {
  const { window: w, before, after, usage, stats } = m;
  const seconds = w.seconds;
  return [
    String(clients),
    // CPU per message barely depends on how much CPU the gateway got: it compares across machines and loads.
    fixed(((usage.gateway?.cpuPercent ?? NaN) / 100 / (w.messages / seconds)) * 1e6),
    fixed(delta(before, after, 'subscription_executions_total') / seconds),
    fixed(delta(before, after, 'subscription_events_coalesced_total')),
    fixed(delta(before, after, 'subscription_messages_dropped_total')),
    ms(histogramPercentile(before, after, 'subscription_delivery_seconds', 99)),
    String(m.publisherLateP99Ms),
    `${fixed(stats.rampSeconds, 1)} (${fixed(rampUsage.gateway?.cpuPercent)} / ${fixed(rampUsage.market?.cpuPercent)})`,
    `${fixed(usage.load?.cpuPercent)} / ${fixed(w.loadLoopDelayP99Ms, 1)}`,
    fixed(usage.market?.cpuPercent),
    fixed(usage.redis?.cpuPercent),
    `${fixed(m.machineBusyPercent)} / ${fixed(m.machineBusyPercent - Object.values(usage).reduce((sum, u) => sum + u.cpuPercent, 0))}`,
    String(w.silentClients),
    String(w.messagesWithErrors),
    Object.entries(stats.closeCodes).map(([code, n]) => `${code}×${n}`).join(' ') || '-',
  ];
}
export const DETAIL_HEADERS = [
  'clients',
  'gw CPU µs/msg',
  'executions/s',
  'coalesced',
  'dropped',
  'gw event→handed p99 ms',
  'publisher late p99 ms',
  'ramp s (gw / market CPU %)',
  'load CPU % / loop p99 ms',
  'market CPU %',
  'redis CPU %',
  'machine busy % (of 200) / of which not the bench',
  'silent clients',
  'msgs with errors',
  'close codes (not by the bench)',
];

