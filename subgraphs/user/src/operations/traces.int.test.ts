// requestTrace's reader against the Zipkin that infra/up.sh starts: it finds a trace by the
// request id tag and maps its spans; unset or away, it answers unavailable with a reason.
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { freePort } from '@analytica/testing';
import { zipkinTraces } from './traces.js';

const ZIPKIN = (process.env.ZIPKIN_URL ?? 'http://127.0.0.1:9411').replace(/\/$/, '');
const settings = { ZIPKIN_TIMEOUT_MS: 2000, ZIPKIN_LOOKBACK_HOURS: 1 };

describe('zipkinTraces', () => {
  it('finds the trace whose span carries the request id and maps every span of it', async () => {
    const requestId = `req-${randomUUID()}`;
    const traceId = randomBytes(16).toString('hex');
    const [root, child] = [randomBytes(8).toString('hex'), randomBytes(8).toString('hex')];
    const now = Date.now() * 1000;
    // Spans as the services' exporter sends them (Zipkin's API v2 JSON).
    const posted = await fetch(`${ZIPKIN}/api/v2/spans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { traceId, id: root, kind: 'SERVER', name: 'post', timestamp: now, duration: 5000, localEndpoint: { serviceName: 'gateway' }, tags: { 'analytica.request_id': requestId } },
        {
          traceId,
          id: child,
          parentId: root,
          kind: 'PRODUCER',
          name: 'send payments.requested.v1',
          timestamp: now + 1000,
          duration: 1200,
          localEndpoint: { serviceName: 'payment' },
          tags: { 'messaging.system': 'kafka', error: 'broker away' },
        },
      ]),
    });
    expect(posted.status).toBe(202);

    const traces = zipkinTraces({ ZIPKIN_URL: ZIPKIN, ...settings });
    const report = await traces.byRequestId(requestId);
    expect(report).toMatchObject({ available: true, reason: null, traceId });
    expect(report.spans).toEqual([
      {
        spanId: root,
        parentSpanId: null,
        service: 'gateway',
        name: 'post',
        kind: 'SERVER',
        startedAt: new Date(Math.floor(now / 1000)),
        durationMicros: 5000,
        attributes: [{ key: 'analytica.request_id', value: requestId }],
        error: false,
      },
      {
        spanId: child,
        parentSpanId: root,
        service: 'payment',
        name: 'send payments.requested.v1',
        kind: 'PRODUCER',
        startedAt: new Date(Math.floor(now / 1000) + 1),
        durationMicros: 1200,
        attributes: [
          { key: 'error', value: 'broker away' },
          { key: 'messaging.system', value: 'kafka' },
        ],
        error: true,
      },
    ]);
    // Another id finds nothing, which is no error.
    expect(await traces.byRequestId(`req-${randomUUID()}`)).toEqual({ available: true, reason: null, traceId: null, spans: [] });
  });

  it('answers unavailable, with the reason, when Zipkin is not configured or does not answer', async () => {
    expect(await zipkinTraces({ ...settings }).byRequestId('r1')).toEqual({
      available: false,
      reason: expect.stringContaining('ZIPKIN_URL is not set'),
      traceId: null,
      spans: [],
    });
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const down = await zipkinTraces({ ZIPKIN_URL: nobody, ...settings }).byRequestId('r1');
    expect(down).toMatchObject({ available: false, traceId: null, spans: [] });
    expect(down.reason).toContain(`Zipkin at ${nobody} did not answer`);
  });
});
