/**
 * Stack mode's traces: the Zipkin that infra/up.sh starts (infra/zipkin) keeps every process's
 * spans. Each process gets OTEL_EXPORTER_ZIPKIN_ENDPOINT (packages/telemetry then exports to it)
 * and ZIPKIN_URL (the user service's requestTrace reads traces back from it).
 */

/** Where stack mode looks for Zipkin: ZIPKIN_URL, else infra/zipkin's default. */
export function zipkinUrl(): string {
  return (process.env.ZIPKIN_URL ?? 'http://127.0.0.1:9411').replace(/\/$/, '');
}

/** Whether a Zipkin answers its /health at `url` within a second. */
export async function zipkinAnswers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Stack mode traces one request in ten: tracing every request cost the gateway 14 % more CPU per
 * request and put its p50 up by a quarter at 500 requests/s on this 2-core machine (Zipkin and the
 * services share the cores; bench/observability/overhead.ts), and one in ten is enough to see where
 * time goes. A request that arrives with a sampled `traceparent` is traced whatever the ratio, and
 * every request's logs carry its request id either way. OTEL_TRACES_SAMPLER_ARG in the shell, or a
 * stack's `traceSampleRatio` (tests that read traces use 1), says otherwise.
 */
export const STACK_TRACE_SAMPLE_RATIO = 0.1;

/**
 * The variables that turn tracing on for every process. `tracing` undefined: on when Zipkin
 * answers, off (no variables) otherwise; true: on, and an error when Zipkin does not answer (a
 * test that reads traces); false: off.
 */
export async function tracingEnv(tracing: boolean | undefined, sampleRatio?: number): Promise<Record<string, string>> {
  if (tracing === false) return {};
  const url = zipkinUrl();
  if (!(await zipkinAnswers(url))) {
    if (tracing) throw new Error(`stack: tracing was asked for but no Zipkin answers on ${url}/health (start it with npm run infra:up)`);
    return {};
  }
  return {
    OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${url}/api/v2/spans`,
    ZIPKIN_URL: url,
    OTEL_TRACES_SAMPLER_ARG: String(sampleRatio ?? process.env.OTEL_TRACES_SAMPLER_ARG ?? STACK_TRACE_SAMPLE_RATIO),
  };
}
