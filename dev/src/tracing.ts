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
 * Stack mode traces every new request, up to 10 new traces a second per process (in practice the
 * gateways: every other process continues their traces): a developer clicking through the stack
 * finds the trace of each of their requests, and under load tracing costs a bounded amount (at 500
 * requests/s, 2 % of requests are traced). Tracing one request in ten, the earlier rule, cost the
 * gateway's p50 more than the 5 % budget at 500 requests/s (issue 16, bench/observability). A
 * request that arrives with a sampled `traceparent` is traced whatever the rule, and every request's
 * logs carry its request id either way. OTEL_TRACES_SAMPLER_ARG and TRACES_PER_SECOND_MAX in the
 * shell, or a stack's `traceSampleRatio` (tests that read traces use 1, with no ceiling), say otherwise.
 */
export const STACK_TRACE_SAMPLE_RATIO = 1;
export const STACK_TRACES_PER_SECOND = 10;

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
    TRACES_PER_SECOND_MAX: String(sampleRatio !== undefined ? 0 : (process.env.TRACES_PER_SECOND_MAX ?? STACK_TRACES_PER_SECOND)),
  };
}
