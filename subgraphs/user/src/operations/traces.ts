import { url, z } from '@analytica/config';

/**
 * One request's trace, read back from Zipkin's API v2 (the trace store stack mode runs, see
 * infra/zipkin): the gateway's root span carries the request id as `analytica.request_id`
 * (packages/service tags every server span with it), so the trace is the one holding a span with
 * that tag. Zipkin unset or away never fails the query: the report says `available: false` and why.
 */

/** Spread into the user service's environment. */
export const tracesEnvShape = {
  /** Zipkin's base URL, whose API v2 `requestTrace` reads (stack mode sets it); unset: traces are unavailable. */
  ZIPKIN_URL: url(['http', 'https']).optional(),
  /** How long `requestTrace` waits for Zipkin before answering unavailable. */
  ZIPKIN_TIMEOUT_MS: z.coerce.number().int().min(50).max(30_000).default(3000),
  /** How far back `requestTrace` looks for a request, in hours (Zipkin keeps spans in memory in stack mode). */
  ZIPKIN_LOOKBACK_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(24),
};

export interface SpanAttributeView {
  key: string;
  value: string;
}

export interface TraceSpanView {
  spanId: string;
  parentSpanId: string | null;
  service: string;
  name: string;
  kind: string | null;
  startedAt: Date;
  durationMicros: number;
  attributes: SpanAttributeView[];
  error: boolean;
}

export interface TraceReportView {
  available: boolean;
  reason: string | null;
  traceId: string | null;
  spans: TraceSpanView[];
}

/** A span as Zipkin's API v2 answers it (the fields read here). */
interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name?: string;
  kind?: string;
  timestamp?: number;
  duration?: number;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

export interface TraceSource {
  byRequestId(requestId: string): Promise<TraceReportView>;
}

/** The tag the gateway's root span carries (REQUEST_ID_ATTRIBUTE of packages/telemetry). */
const REQUEST_ID_TAG = 'analytica.request_id';

export function zipkinTraces(settings: { ZIPKIN_URL?: string; ZIPKIN_TIMEOUT_MS: number; ZIPKIN_LOOKBACK_HOURS: number }): TraceSource {
  const base = settings.ZIPKIN_URL?.replace(/\/+$/, '');
  const unavailable = (reason: string): TraceReportView => ({ available: false, reason, traceId: null, spans: [] });
  return {
    async byRequestId(requestId) {
      if (!base) return unavailable('ZIPKIN_URL is not set: this deployment keeps no traces for the user service to read.');
      const query = new URLSearchParams({
        annotationQuery: `${REQUEST_ID_TAG}=${requestId}`,
        lookback: String(settings.ZIPKIN_LOOKBACK_HOURS * 3_600_000),
        endTs: String(Date.now()),
        limit: '10',
      });
      let traces: ZipkinSpan[][];
      try {
        const response = await fetch(`${base}/api/v2/traces?${query.toString()}`, { signal: AbortSignal.timeout(settings.ZIPKIN_TIMEOUT_MS) });
        if (!response.ok) throw new Error(`answered ${response.status}`);
        traces = (await response.json()) as ZipkinSpan[][];
        if (!Array.isArray(traces)) throw new Error('answered something that is not a list of traces');
      } catch (error) {
        return unavailable(`Zipkin at ${base} did not answer: ${(error as Error).message}`);
      }
      // One request is one trace; should a retried id have left several, the latest is shown.
      const trace = traces.filter((spans) => Array.isArray(spans) && spans.length > 0).sort((a, b) => startOf(b) - startOf(a))[0];
      if (!trace) return { available: true, reason: null, traceId: null, spans: [] };
      return { available: true, reason: null, traceId: trace[0]!.traceId, spans: trace.map(toSpan).sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime()) };
    },
  };
}

function startOf(spans: ZipkinSpan[]): number {
  return Math.min(...spans.map((s) => s.timestamp ?? Number.MAX_SAFE_INTEGER));
}

function toSpan(span: ZipkinSpan): TraceSpanView {
  const tags = span.tags ?? {};
  return {
    spanId: span.id,
    parentSpanId: span.parentId ?? null,
    service: span.localEndpoint?.serviceName ?? 'unknown',
    name: span.name ?? '',
    kind: span.kind ?? null,
    // Zipkin's times are microseconds since the epoch.
    startedAt: new Date(Math.floor((span.timestamp ?? 0) / 1000)),
    durationMicros: Math.min(span.duration ?? 0, 2 ** 31 - 1),
    attributes: Object.entries(tags)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => ({ key, value })),
    // OpenTelemetry's error status becomes Zipkin's `error` tag.
    error: 'error' in tags || tags['otel.status_code'] === 'ERROR',
  };
}
