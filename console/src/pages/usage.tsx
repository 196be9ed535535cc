import { gql } from '@apollo/client';
import { useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { Loaded, Section, Table, Unavailable } from '../ui';

const USAGE = gql(`
  query ConsoleOperationUsage($since: DateTimeISO!, $bucketMinutes: Int, $clientName: String) {
    operationUsage(since: $since, bucketMinutes: $bucketMinutes, clientName: $clientName) {
      available reason
      points { bucketStart operationName clientName requests errors p95Ms }
    }
  }
`);

interface UsagePoint {
  bucketStart: string;
  operationName: string | null;
  clientName: string;
  requests: number;
  errors: number;
  p95Ms: number | null;
}
const WINDOWS = [
  { label: 'Last hour', hours: 1, bucketMinutes: 5 },
  { label: 'Last 6 hours', hours: 6, bucketMinutes: 15 },
  { label: 'Last day', hours: 24, bucketMinutes: 60 },
  { label: 'Last week', hours: 168, bucketMinutes: 360 },
];

export function UsagePage() {
  const [windowIndex, setWindowIndex] = useState(0);
  const [client, setClient] = useState('');
  const variablesOf = () => {
    const window = WINDOWS[windowIndex]!;
    // Whole minutes, so that the same choice asks the same question (and the cache can answer it).
    const since = new Date(Math.floor((Date.now() - window.hours * 3_600_000) / 60_000) * 60_000).toISOString();
    return { since, bucketMinutes: window.bucketMinutes, clientName: client || undefined };
  };
  const [variables, setVariables] = useState(variablesOf);
  const { data, loading, error } = useQuery<{ operationUsage: { available: boolean; reason: string | null; points: UsagePoint[] } }>(USAGE, { variables });
  const apply = (event: FormEvent) => {
    event.preventDefault();
    setVariables(variablesOf());
  };
  return (
    <Section title="Usage">
      <form className="filters" onSubmit={apply}>
        <select name="window" value={windowIndex} onChange={(e) => setWindowIndex(Number(e.target.value))}>
          {WINDOWS.map((w, n) => (
            <option key={w.label} value={n}>
              {w.label}
            </option>
          ))}
        </select>
        <input name="clientName" placeholder="Client name (all)" value={client} onChange={(e) => setClient(e.target.value)} />
        <button type="submit">Show</button>
      </form>
      <Loaded loading={loading} error={error} data={data}>
        {({ operationUsage }) =>
          !operationUsage.available ? (
            <Unavailable reason={operationUsage.reason} />
          ) : (
            <UsageReport points={operationUsage.points} since={variables.since} bucketMinutes={variables.bucketMinutes} />
          )
        }
      </Loaded>
    </Section>
  );
}

interface Totals {
  requests: number;
  errors: number;
  /** The worst bucket's p95: a p95 of several buckets cannot be had from theirs. */
  p95Ms: number | null;
}
function add(totals: Map<string, Totals>, key: string, point: UsagePoint) {
  const t = totals.get(key) ?? { requests: 0, errors: 0, p95Ms: null };
  t.requests += point.requests;
  t.errors += point.errors;
  if (point.p95Ms != null) t.p95Ms = Math.max(t.p95Ms ?? 0, point.p95Ms);
  totals.set(key, t);
}

/** Every bucket of the window, the quiet ones empty, so that the time axis is even. */
function everyBucket(byBucket: Map<string, Totals>, since: string, bucketMinutes: number): [string, Totals][] {
  const size = bucketMinutes * 60_000;
  const seen = new Map([...byBucket].map(([at, t]) => [Math.floor(new Date(at).getTime() / size) * size, t] as const));
  const out: [string, Totals][] = [];
  const first = Math.min(Math.floor(new Date(since).getTime() / size) * size, ...seen.keys());
  for (let at = first; at <= Date.now(); at += size) out.push([new Date(at).toISOString(), seen.get(at) ?? { requests: 0, errors: 0, p95Ms: null }]);
  return out;
}

function UsageReport({ points, since, bucketMinutes }: { points: UsagePoint[]; since: string; bucketMinutes: number }) {
  if (points.length === 0) return <p className="muted">No request in this window.</p>;
  const byBucket = new Map<string, Totals>();
  const byOperation = new Map<string, Totals>();
  const byClient = new Map<string, Totals>();
  for (const point of points) {
    add(byBucket, point.bucketStart, point);
    add(byOperation, point.operationName ?? '(anonymous)', point);
    add(byClient, point.clientName, point);
  }
  const buckets = everyBucket(byBucket, since, bucketMinutes);
  return (
    <>
      <h3>Requests and errors</h3>
      <BarChart buckets={buckets} />
      <h3>p95 latency (ms, the slowest operation of each bucket)</h3>
      <LineChart buckets={buckets} />
      <TotalsTable title="Operation" totals={byOperation} />
      <TotalsTable title="Client" totals={byClient} />
    </>
  );
}

const [W, H, PAD] = [900, 180, 36];
const timeLabel = (iso: string) => iso.slice(11, 16);

function Axis({ max, unit, buckets }: { max: number; unit: string; buckets: [string, Totals][] }) {
  const step = Math.max(1, Math.ceil(buckets.length / 8));
  return (
    <g className="axis">
      <line x1={PAD} y1={H - PAD / 2} x2={W} y2={H - PAD / 2} />
      <text x={0} y={12}>
        {Math.round(max)}
        {unit}
      </text>
      <text x={0} y={H - PAD / 2}>
        0
      </text>
      {buckets.map(([at], n) =>
        n % step === 0 ? (
          <text key={at} x={PAD + (n + 0.5) * ((W - PAD) / buckets.length)} y={H - 2} textAnchor="middle">
            {timeLabel(at)}
          </text>
        ) : null,
      )}
    </g>
  );
}

function BarChart({ buckets }: { buckets: [string, Totals][] }) {
  const max = Math.max(1, ...buckets.map(([, t]) => t.requests));
  const slot = (W - PAD) / buckets.length;
  const bar = Math.min(slot * 0.8, 40);
  const y = (v: number) => H - PAD / 2 - (v / max) * (H - PAD);
  return (
    <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="Requests and errors per bucket">
      <Axis max={max} unit="" buckets={buckets} />
      {buckets.map(([at, t], n) => (
        <g key={at}>
          <title>{`${at}: ${t.requests} requests, ${t.errors} errors`}</title>
          <rect className="bar" x={PAD + n * slot + (slot - bar) / 2} width={bar} y={y(t.requests)} height={H - PAD / 2 - y(t.requests)} />
          <rect className="bar error" x={PAD + n * slot + (slot - bar) / 2} width={bar} y={y(t.errors)} height={H - PAD / 2 - y(t.errors)} />
        </g>
      ))}
    </svg>
  );
}

function LineChart({ buckets }: { buckets: [string, Totals][] }) {
  const max = Math.max(1, ...buckets.map(([, t]) => t.p95Ms ?? 0));
  const slot = (W - PAD) / buckets.length;
  const points = buckets.flatMap(([at, t], n) => (t.p95Ms == null ? [] : [{ at, p95Ms: t.p95Ms, x: PAD + (n + 0.5) * slot, y: H - PAD / 2 - (t.p95Ms / max) * (H - PAD) }]));
  return (
    <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="p95 latency per bucket">
      <Axis max={max} unit=" ms" buckets={buckets} />
      <polyline className="line" points={points.map((p) => `${p.x},${p.y}`).join(' ')} />
      {points.map((p) => (
        <circle key={p.at} className="dot" cx={p.x} cy={p.y} r={3}>
          <title>{`${p.at}: p95 ${p.p95Ms.toFixed(0)} ms`}</title>
        </circle>
      ))}
    </svg>
  );
}

function TotalsTable({ title, totals }: { title: string; totals: Map<string, Totals> }) {
  const rows = [...totals.entries()].sort(([, a], [, b]) => b.requests - a.requests);
  return (
    <Table headers={[title, 'Requests', 'Errors', 'Error rate', 'Worst p95']}>
      {rows.map(([name, t]) => (
        <tr key={name}>
          <td>{name}</td>
          <td>{t.requests}</td>
          <td>{t.errors}</td>
          <td>{t.requests ? `${((t.errors / t.requests) * 100).toFixed(1)} %` : '—'}</td>
          <td>{t.p95Ms == null ? '—' : `${t.p95Ms.toFixed(0)} ms`}</td>
        </tr>
      ))}
    </Table>
  );
}
