import { ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { AlwaysOnSampler, SamplingDecision, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-node';
import { describe, expect, it } from 'vitest';
import { CeilingSampler } from './sampler.js';

const traceId = (i: number) => i.toString(16).padStart(32, '0');

describe('CeilingSampler', () => {
  it('records at most its ceiling of new traces per second, refilling as time passes', () => {
    let now = 0;
    const sampler = new CeilingSampler(new AlwaysOnSampler(), 10, () => now);
    const decide = (i: number) => sampler.shouldSample(ROOT_CONTEXT, traceId(i), 'POST /graphql', SpanKind.SERVER, {}, []).decision;
    const burst = Array.from({ length: 50 }, (_, i) => decide(i));
    expect(burst.filter((d) => d === SamplingDecision.RECORD_AND_SAMPLED)).toHaveLength(10);
    expect(burst.slice(10).every((d) => d === SamplingDecision.NOT_RECORD)).toBe(true);
    // 500 requests a second for 3 seconds: 10 recorded each second, whatever the traffic.
    let recorded = 0;
    for (let i = 0; i < 1500; i++) {
      now += 2;
      if (decide(100 + i) === SamplingDecision.RECORD_AND_SAMPLED) recorded++;
    }
    expect(recorded).toBe(30);
  });

  it('records every trace its ratio chooses while traffic stays under the ceiling, and none the ratio refuses', () => {
    let now = 0;
    const all = new CeilingSampler(new AlwaysOnSampler(), 10, () => now);
    for (let i = 0; i < 100; i++) {
      now += 200; // 5 a second
      expect(all.shouldSample(ROOT_CONTEXT, traceId(i), 'GET', SpanKind.SERVER, {}, []).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    }
    const none = new CeilingSampler(new TraceIdRatioBasedSampler(0), 10, () => now);
    expect(none.shouldSample(ROOT_CONTEXT, traceId(1), 'GET', SpanKind.SERVER, {}, []).decision).toBe(SamplingDecision.NOT_RECORD);
  });

  it('has no ceiling at 0', () => {
    const sampler = new CeilingSampler(new AlwaysOnSampler(), 0, () => 0);
    for (let i = 0; i < 1000; i++) expect(sampler.shouldSample(ROOT_CONTEXT, traceId(i), 'GET', SpanKind.SERVER, {}, []).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });
});
