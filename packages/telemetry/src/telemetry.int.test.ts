// Tracing of one process against the Zipkin that infra/up.sh starts (infra/zipkin): incoming
// requests continue their caller's trace and carry the request id; probes are not traced; the
// configuration is checked; with no endpoint nothing is started.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '@analytica/config';
import { startTracing, tagRequestId, traceHeaders, traceIncomingRequest, type Tracing } from './index.js';

const ZIPKIN = (process.env.ZIPKIN_URL ?? 'http://127.0.0.1:9411').replace(/\/$/, '');
let tracing: Tracing | undefined;

afterAll(async () => {
  await tracing?.shutdown();
});

async function get(url: string, headers: Record<string, string>) {
  await new Promise<void>((resolve, reject) => {
    http.get(url, { headers }, (res) => res.resume().on('end', resolve)).on('error', reject);
  });
}

describe('startTracing', () => {
  it('refuses a bad endpoint naming the variable, and starts nothing without one', () => {
    expect(() => startTracing('bad', { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(ConfigError);
    expect(() => startTracing('bad', { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(() => startTracing('bad', { OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://z/api/v2/spans', OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
    const off = startTracing('quiet', {});
    expect(off.enabled).toBe(false);
    // Off: nothing is injected anywhere.
    expect(traceHeaders()).toEqual({});
  });

  it("continues the caller's trace on an incoming request, tagged with the request id, failed on a 5xx, and leaves /health alone", async () => {
    tracing = startTracing('telemetry-test', { OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${ZIPKIN}/api/v2/spans`, OTEL_BSP_SCHEDULE_DELAY: '50' });
    expect(tracing.enabled).toBe(true);
    // As the service skeleton serves every request (packages/service).
    const server = http.createServer((req, res) =>
      traceIncomingRequest(
        req,
        res,
        () => {
          tagRequestId('req-telemetry-test');
          res.statusCode = req.url === '/fail' ? 503 : 200;
          res.end('ok');
        },
        () => '/work',
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const traceId = randomBytes(16).toString('hex');
      const callerSpan = randomBytes(8).toString('hex');
      await get(`${base}/work`, { traceparent: `00-${traceId}-${callerSpan}-01` });
      const failedTrace = randomBytes(16).toString('hex');
      await get(`${base}/fail`, { traceparent: `00-${failedTrace}-${callerSpan}-01` });
      const probeTrace = randomBytes(16).toString('hex');
      await get(`${base}/health`, { traceparent: `00-${probeTrace}-${callerSpan}-01` });
      await tracing.flush();

      type ZipkinSpan = { name: string; parentId?: string; kind?: string; localEndpoint: { serviceName: string }; tags: Record<string, string> };
      // vitest's own polling: @analytica/testing depends on the service skeleton, which depends on this package.
      const spansOf = (id: string) =>
        vi.waitFor(
          async () => {
            const response = await fetch(`${ZIPKIN}/api/v2/trace/${id}`);
            if (!response.ok) throw new Error(`Zipkin has no trace ${id} yet (${response.status})`);
            return (await response.json()) as ZipkinSpan[];
          },
          { timeout: 10_000, interval: 100 },
        );
      const spans = await spansOf(traceId);
      expect(spans).toHaveLength(1);
      expect(spans[0]).toMatchObject({ name: 'get /work', parentId: callerSpan, kind: 'SERVER', localEndpoint: { serviceName: 'telemetry-test' } });
      expect(spans[0]!.tags).toMatchObject({ 'analytica.request_id': 'req-telemetry-test', 'url.path': '/work', 'http.route': '/work', 'http.response.status_code': '200' });
      expect(spans[0]!.tags.error).toBeUndefined();
      // A 5xx answer marks the span failed.
      const [failed] = await spansOf(failedTrace);
      expect(failed!.tags).toMatchObject({ 'url.path': '/fail', 'http.response.status_code': '503', 'otel.status_code': 'ERROR', error: 'answered 503' });
      // The probe's trace never reached Zipkin.
      expect((await fetch(`${ZIPKIN}/api/v2/trace/${probeTrace}`)).status).toBe(404);
    } finally {
      server.close();
    }
  });
});
