/**
 * OpenTelemetry tracing for one service process: `startTracing(name)` first thing in a main.
 * Spans go over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT and/or as Zipkin JSON to
 * OTEL_EXPORTER_ZIPKIN_ENDPOINT (stack mode's Zipkin); with neither set tracing is off and costs
 * nothing: no provider is registered, so every API call elsewhere is a no-op.
 */
import { createRequire } from 'node:module';
import { trace } from '@opentelemetry/api';
import type * as Resources from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { loadEnv, parseEnv, url, z } from '@analytica/config';
import { setTracingFlusher } from './context.js';
import { CeilingSampler } from './sampler.js';

export { REQUEST_ID_ATTRIBUTE, activeTraceId, tagRequestId, traceHeaders, traceIncomingRequest, contextFromHeaders, inSpan, flushTracing, SpanKind } from './context.js';

export const telemetryEnvShape = {
  /** OTLP/HTTP base URL (spans go to <it>/v1/traces), e.g. http://collector:4318. */
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http', 'https']).optional(),
  /** Zipkin's span intake, e.g. http://127.0.0.1:9411/api/v2/spans (stack mode sets it). */
  OTEL_EXPORTER_ZIPKIN_ENDPOINT: url(['http', 'https']).optional(),
  /** Share of new traces recorded, 0 to 1; a request that arrives traced follows its caller. */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
  /** At most this many new traces recorded per second by this process, after the share (sampler.ts); 0: no ceiling. */
  TRACES_PER_SECOND_MAX: z.coerce.number().min(0).max(100_000).default(0),
  /** How long finished spans wait before a batch is sent, in ms. */
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().min(10).max(60_000).default(1000),
};
export type TelemetryEnv = z.infer<z.ZodObject<typeof telemetryEnvShape>>;

export interface Tracing {
  enabled: boolean;
  /** Sends what is still batched. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

const off: Tracing = { enabled: false, flush: async () => {}, shutdown: async () => {} };
let current: Tracing | undefined;

/**
 * Starts tracing for this process under `serviceName` when an exporter endpoint is configured
 * (a bad value stops the process naming the variable, as every service's configuration does).
 * Once per process: a call after tracing started (several services in one process, as `npm start`
 * runs them) keeps the first.
 */
export function startTracing(serviceName: string, source: Record<string, string | undefined> = process.env): Tracing {
  if (current) return current;
  const env = source === process.env ? loadEnv(serviceName, telemetryEnvShape) : parseEnv(telemetryEnvShape, source);
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_ZIPKIN_ENDPOINT) return off;
  current = start(serviceName, env);
  return current;
}

function start(serviceName: string, env: TelemetryEnv): Tracing {
  const processors: SpanProcessor[] = [];
  const batch = { scheduledDelayMillis: env.OTEL_BSP_SCHEDULE_DELAY, maxQueueSize: 8192, maxExportBatchSize: 512 };
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) {
    const endpoint = new URL('v1/traces', env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/?$/, '/'));
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint.href }), batch));
  }
  if (env.OTEL_EXPORTER_ZIPKIN_ENDPOINT) {
    const endpoint = new URL(env.OTEL_EXPORTER_ZIPKIN_ENDPOINT);
    processors.push(new BatchSpanProcessor(new ZipkinExporter({ url: endpoint.href, serviceName }), batch));
  }
  const provider = new NodeTracerProvider({
    resource: sdkResources().resourceFromAttributes({ 'service.name': serviceName }),
    sampler: new ParentBasedSampler({ root: new CeilingSampler(new TraceIdRatioBasedSampler(env.OTEL_TRACES_SAMPLER_ARG), env.TRACES_PER_SECOND_MAX) }),
    spanProcessors: processors,
  });
  // The default propagator: W3C trace context (and baggage); every hop (HTTP and Kafka headers, outbox rows) carries `traceparent`.
  provider.register();
  // No automatic instrumentation: the service skeleton opens each incoming request's span
  // (traceIncomingRequest) and the few outgoing calls that matter carry `traceparent` themselves
  // (the gateway's subgraph calls, the bank, DynamoDB, Kafka messages and outbox rows).
  setTracingFlusher(() => provider.forceFlush());
  return {
    enabled: true,
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      setTracingFlusher(undefined);
      current = undefined;
    },
  };
}

/**
 * The resources module of the SDK's own version, found along the SDK's dependencies
 * (sdk-trace-node -> sdk-trace-base -> resources): another major version sits at the top of
 * node_modules for other packages, and bundling (infra/build) refuses an import that would
 * resolve differently from dist/.
 */
function sdkResources(): typeof Resources {
  const fromHere = createRequire(import.meta.url);
  const fromNode = createRequire(fromHere.resolve('@opentelemetry/sdk-trace-node'));
  return createRequire(fromNode.resolve('@opentelemetry/sdk-trace-base'))('@opentelemetry/resources') as typeof Resources;
}
