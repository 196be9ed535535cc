import { gql } from '@apollo/client';
import { useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { navigate, useRoute } from '../router';
import { isoOf, Loaded, Section, Table, Unavailable } from '../ui';

const LOGS = gql(`
  query ConsoleLogs($service: String, $level: LogLevel, $requestId: String, $since: DateTimeISO, $until: DateTimeISO, $after: String) {
    logs(service: $service, level: $level, requestId: $requestId, since: $since, until: $until, first: 100, after: $after) {
      available reason nextCursor
      entries { time service level message requestId traceId json }
    }
  }
`);
const TRACE = gql(`
  query ConsoleRequestTrace($requestId: String!) {
    requestTrace(requestId: $requestId) {
      available reason traceId
      spans { spanId parentSpanId service name kind startedAt durationMicros error attributes { key value } }
    }
  }
`);

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
interface LogEntry {
  time: string;
  service: string;
  level: string;
  message: string;
  requestId: string | null;
  traceId: string | null;
  json: string;
}
interface LogsData {
  logs: { available: boolean; reason: string | null; nextCursor: string | null; entries: LogEntry[] };
}
interface Span {
  spanId: string;
  parentSpanId: string | null;
  service: string;
  name: string;
  kind: string | null;
  startedAt: string;
  durationMicros: number;
  error: boolean;
  attributes: { key: string; value: string }[];
}

export function LogsPage() {
  const { params } = useRoute();
  const requestIdParam = params.get('requestId') ?? '';
  const [service, setService] = useState('');
  const [level, setLevel] = useState('');
  const [requestId, setRequestId] = useState(requestIdParam);
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [opened, setOpened] = useState<number>();
  const filters = { service: service || undefined, level: level || undefined, requestId: requestIdParam || undefined, since: isoOf(since), until: isoOf(until) };
  const [variables, setVariables] = useState(filters);
  const { data, loading, error, fetchMore, refetch } = useQuery<LogsData>(LOGS, { variables: { ...variables, requestId: requestIdParam || undefined } });

  const apply = (event: FormEvent) => {
    event.preventDefault();
    // The same filters again mean "what is new": lines arrive in the store a few seconds after they are logged.
    if (JSON.stringify(filters) === JSON.stringify({ ...variables, requestId: requestIdParam || undefined }) && (requestId || undefined) === (requestIdParam || undefined))
      void refetch();
    setVariables(filters);
    // The request id is in the address, so that one request's page can be linked to.
    navigate(requestId ? `/logs?requestId=${encodeURIComponent(requestId)}` : '/logs');
  };
  const follow = (id: string) => {
    setRequestId(id);
    navigate(`/logs?requestId=${encodeURIComponent(id)}`);
  };

  return (
    <>
      <Section title="Logs">
        <form className="filters" onSubmit={apply}>
          <input name="service" placeholder="Service, e.g. gateway" value={service} onChange={(e) => setService(e.target.value)} />
          <select name="level" value={level} onChange={(e) => setLevel(e.target.value)}>
            <option value="">Any level</option>
            {LEVELS.map((l) => (
              <option key={l} value={l}>
                {l} and above
              </option>
            ))}
          </select>
          <input name="requestId" placeholder="Request id" value={requestId} onChange={(e) => setRequestId(e.target.value)} />
          <label>
            Since (UTC) <input name="since" type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} />
          </label>
          <label>
            Until (UTC) <input name="until" type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />
          </label>
          <button type="submit">Show</button>
        </form>
        <Loaded loading={loading} error={error} data={data}>
          {({ logs }) =>
            !logs.available ? (
              <Unavailable reason={logs.reason} />
            ) : (
              <>
                <Table className="logs" headers={['Time', 'Service', 'Level', 'Message', 'Request']}>
                  {logs.entries.map((entry, n) => (
                    <tr key={n} className={`level-${entry.level.toLowerCase()}`} data-service={entry.service}>
                      <td className="nowrap" title={entry.time}>
                        {entry.time.slice(0, 10)} {entry.time.slice(11, 23)}
                      </td>
                      <td>{entry.service}</td>
                      <td>{entry.level}</td>
                      <td>
                        <button type="button" className="link" onClick={() => setOpened(opened === n ? undefined : n)}>
                          {entry.message}
                        </button>
                        {opened === n ? <pre className="payload">{pretty(entry.json)}</pre> : null}
                      </td>
                      <td>
                        {entry.requestId ? (
                          <button type="button" className="link" title={`This request's logs and trace: ${entry.requestId}`} onClick={() => follow(entry.requestId!)}>
                            {entry.requestId.slice(0, 8)}…
                          </button>
                        ) : (
                          '—'
                        )}
                      </td>
                    </tr>
                  ))}
                </Table>
                {logs.entries.length === 0 ? <p className="muted">No log line matches.</p> : null}
                {logs.nextCursor ? (
                  <button
                    type="button"
                    onClick={() =>
                      void fetchMore({
                        variables: { after: logs.nextCursor },
                        updateQuery: (previous, { fetchMoreResult }) => ({
                          logs: { ...fetchMoreResult.logs, entries: [...previous.logs.entries, ...fetchMoreResult.logs.entries] },
                        }),
                      })
                    }
                  >
                    Older
                  </button>
                ) : null}
              </>
            )
          }
        </Loaded>
      </Section>
      {requestIdParam ? <TraceView requestId={requestIdParam} /> : null}
    </>
  );
}

function pretty(json: string) {
  try {
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    return json;
  }
}

/** One request's trace: its spans as a waterfall, in order of their start, indented under their parents. */
function TraceView({ requestId }: { requestId: string }) {
  const { data, loading, error } = useQuery<{ requestTrace: { available: boolean; reason: string | null; traceId: string | null; spans: Span[] } }>(TRACE, {
    variables: { requestId },
  });
  return (
    <Section title={`Trace of request ${requestId}`}>
      <Loaded loading={loading} error={error} data={data}>
        {({ requestTrace }) =>
          !requestTrace.available ? (
            <Unavailable reason={requestTrace.reason} />
          ) : requestTrace.spans.length === 0 ? (
            <p className="muted">
              No trace for this request: it was not sampled (stack mode traces one request in ten, OTEL_TRACES_SAMPLER_ARG), or its spans are still on their way (they arrive a few
              seconds after it).
            </p>
          ) : (
            <Waterfall traceId={requestTrace.traceId} spans={requestTrace.spans} />
          )
        }
      </Loaded>
    </Section>
  );
}

function ordered(spans: Span[]): { span: Span; depth: number }[] {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string | null, Span[]>();
  for (const span of spans) {
    const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : null;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const out: { span: Span; depth: number }[] = [];
  const walk = (parent: string | null, depth: number) => {
    for (const span of (children.get(parent) ?? []).sort((a, b) => a.startedAt.localeCompare(b.startedAt))) {
      out.push({ span, depth });
      walk(span.spanId, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

function Waterfall({ traceId, spans }: { traceId: string | null; spans: Span[] }) {
  const rows = ordered(spans);
  const start = Math.min(...spans.map((s) => new Date(s.startedAt).getTime() * 1000));
  const end = Math.max(...spans.map((s) => new Date(s.startedAt).getTime() * 1000 + s.durationMicros));
  const total = Math.max(end - start, 1);
  const [width, label, rowHeight] = [1000, 380, 22];
  const services = [...new Set(spans.map((s) => s.service))];
  return (
    <>
      <p className="muted">
        Trace <code>{traceId}</code>: {spans.length} spans across {services.join(', ')}; {(total / 1000).toFixed(1)} ms.
      </p>
      <svg className="waterfall" viewBox={`0 0 ${width} ${rows.length * rowHeight + 4}`} role="img" aria-label="The request's spans over time">
        {rows.map(({ span, depth }, n) => {
          const x = label + ((new Date(span.startedAt).getTime() * 1000 - start) / total) * (width - label - 10);
          const w = Math.max((span.durationMicros / total) * (width - label - 10), 2);
          const y = n * rowHeight + 2;
          return (
            <g key={span.spanId} data-service={span.service}>
              <title>{`${span.service}: ${span.name} (${span.kind ?? 'span'}), ${(span.durationMicros / 1000).toFixed(2)} ms\n${span.attributes.map((a) => `${a.key}=${a.value}`).join('\n')}`}</title>
              <text x={4 + depth * 12} y={y + 15} className="span-label">
                {span.service} · {span.name}
              </text>
              <rect x={x} y={y + 3} width={w} height={rowHeight - 6} rx={2} className={span.error ? 'span-bar error' : `span-bar s${services.indexOf(span.service) % 6}`} />
            </g>
          );
        })}
      </svg>
    </>
  );
}
