import { SamplingDecision, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace-node';
import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';

/**
 * Head sampling of new traces with a ceiling: `ratio` decides first (OTEL_TRACES_SAMPLER_ARG), then
 * at most `perSecond` of the traces it chose are recorded each second (TRACES_PER_SECOND_MAX, a
 * token bucket holding one second's worth; 0: no ceiling). Jaeger's rate-limiting sampler and
 * X-Ray's reservoir work the same way.
 *
 * Why: a ratio alone makes tracing cost grow with traffic. With a ceiling, a quiet system (a
 * developer clicking through the console) has every request traced, and one under load pays for a
 * bounded number of traces: at 500 requests/s, 10 a second is 2 %.
 */
export class CeilingSampler implements Sampler {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratio: Sampler,
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = perSecond;
    this.last = now();
  }

  shouldSample(context: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    const chosen = this.ratio.shouldSample(context, traceId, name, kind, attributes, links);
    if (this.perSecond <= 0 || chosen.decision !== SamplingDecision.RECORD_AND_SAMPLED) return chosen;
    const now = this.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return { decision: SamplingDecision.NOT_RECORD };
    this.tokens -= 1;
    return chosen;
  }

  toString(): string {
    return `CeilingSampler{${this.ratio.toString()}, at most ${this.perSecond}/s}`;
  }
}
