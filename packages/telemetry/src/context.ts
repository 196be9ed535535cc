/**
 * The trace-context helpers that product code uses (packages/service, packages/events): only the
 * OpenTelemetry API, no SDK. With no tracer provider registered (tracing off) every call here is
 * the API's no-op: nothing is recorded and nothing is injected.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, propagation, trace, SpanKind, SpanStatusCode, ROOT_CONTEXT, type Attributes, type Context, type Span } from '@opentelemetry/api';

export { SpanKind, type Context, type Span };

/** The attribute that ties a trace to the request id every log line carries (x-request-id). */
export const REQUEST_ID_ATTRIBUTE = 'analytica.request_id';

const tracer = () => trace.getTracer('@analytica/telemetry');

let flusher: (() => Promise<void>) | undefined;
/** Set by startTracing: how to send what is still batched. */
export function setTracingFlusher(flush: (() => Promise<void>) | undefined): void {
  flusher = flush;
}
/** Sends what is batched, if tracing is on (on shutdown, before the process exits); never throws. */
export async function flushTracing(): Promise<void> {
  await flusher?.().catch(() => {});
}

/** The trace id of the active span; undefined outside a trace or with tracing off. */
export function activeTraceId(): string | undefined {
  return trace.getActiveSpan()?.spanContext().traceId;
}

/** Marks the active span (the incoming request's server span) with the request id. */
export function tagRequestId(requestId: string): void {
  trace.getActiveSpan()?.setAttribute(REQUEST_ID_ATTRIBUTE, requestId);
}

/**
 * The active trace context as W3C headers (`traceparent`, `tracestate`), for a message or a row
 * that carries it to another process; empty when tracing is off or nothing is being traced.
 */
export function traceHeaders(from: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  if (!flusher) return carrier;
  propagation.inject(from, carrier);
  return carrier;
}

/** The context that W3C headers carried (kafkajs header values may be Buffers). */
export function contextFromHeaders(headers: Record<string, unknown> | undefined): Context {
  if (!headers) return ROOT_CONTEXT;
  const carrier: Record<string, string> = {};
  for (const name of ['traceparent', 'tracestate']) {
    const value = headers[name];
    if (typeof value === 'string') carrier[name] = value;
    else if (Buffer.isBuffer(value)) carrier[name] = value.toString('utf8');
  }
  return carrier.traceparent ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;
}

/**
 * Runs `work` inside a new span (child of `parent`, the active context by default) and ends it
 * when the work settles; a thrown error marks the span failed and is thrown on.
 */
export async function inSpan<T>(name: string, options: { kind?: SpanKind; attributes?: Attributes; parent?: Context }, work: (span: Span) => Promise<T>): Promise<T> {
  const parent = options.parent ?? context.active();
  return tracer().startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, parent, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Whether `parent` (the active context by default) holds a span: work outside any trace starts none. */
export function hasTrace(parent: Context = context.active()): boolean {
  return trace.getSpanContext(parent) !== undefined;
}

/** Starts a span that the caller ends (`endSpan`), for work whose start and end are apart (a batch on a bus). */
export function startSpan(name: string, options: { kind?: SpanKind; attributes?: Attributes; parent?: Context }): Span {
  return tracer().startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, options.parent ?? context.active());
}

/** W3C headers naming `span` as the parent of what receives them. */
export function spanHeaders(span: Span): Record<string, string> {
  return traceHeaders(trace.setSpan(ROOT_CONTEXT, span));
}

/** Ends a span started with `startSpan`, failed when `error` is given. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}

/** Incoming requests that are never traced: probes and scrapes would drown the real ones. */
const UNTRACED_PATHS = new Set(['/health', '/ready', '/metrics']);

/**
 * Serves one incoming HTTP request inside a SERVER span that continues the caller's trace (its
 * `traceparent` header), so that everything the request does (subgraph calls, outbox rows, Kafka
 * messages) lands in that trace. The span ends when the response is sent or the connection closes,
 * with the status; a 5xx marks it failed. `route` names it at the end (e.g. express's matched
 * route), never the raw path, so that span names stay few.
 *
 * Why this and not @opentelemetry/instrumentation-http: that patches every `http.request` and
 * server of the process and records a dozen attributes per span; measured at the gateway (issue 16,
 * bench/observability) it cost more than the 5 % the tracing budget allows. Here a request costs
 * one span, and with tracing off nothing but a check.
 */
export function traceIncomingRequest(req: IncomingMessage, res: ServerResponse, handle: () => void, route?: () => string | undefined): void {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (!flusher || UNTRACED_PATHS.has(path)) return handle();
  const method = req.method ?? 'GET';
  const parent = req.headers.traceparent ? propagation.extract(ROOT_CONTEXT, req.headers) : ROOT_CONTEXT;
  const span = tracer().startSpan(method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': path.slice(0, 200) } }, parent);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    const name = route?.();
    if (name) {
      span.updateName(`${method} ${name}`);
      span.setAttribute('http.route', name);
    }
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `answered ${res.statusCode}` });
    span.end();
  };
  res.once('finish', end);
  res.once('close', end);
  context.with(trace.setSpan(parent, span), handle);
}

/**
 * A call to another system made inside a traced request: runs `call` in a CLIENT span and hands it
 * the W3C headers naming that span, for the callee to continue the trace. Outside any trace (a
 * timer, a poll) or with tracing off it only calls: a background call starts no trace of its own.
 */
export async function inClientSpan<T>(name: string, attributes: Attributes, call: (headers: Record<string, string>) => Promise<T>): Promise<T> {
  if (!flusher || !hasTrace()) return call({});
  return inSpan(name, { kind: SpanKind.CLIENT, attributes }, (span) => call(spanHeaders(span)));
}
