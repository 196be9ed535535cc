/**
 * The trace-context helpers that product code uses (packages/service, packages/events): only the
 * OpenTelemetry API, no SDK. With no tracer provider registered (tracing off) every call here is
 * the API's no-op: nothing is recorded and nothing is injected.
 */
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
