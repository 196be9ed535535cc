// Trace context across the bus, on Kafka and on the local PostgreSQL log alike: an event encoded
// inside a trace is sent in a `send <topic>` span and handled inside a `process <topic>` span of
// the same trace (spans read back from the Zipkin that infra/up.sh starts); an event encoded
// outside any trace starts none.
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '@analytica/logger';
import { activeTraceId, inSpan, startTracing } from '@analytica/telemetry';
import { dropSchema, eventually, services, uniqueName } from '@analytica/testing';
import { createKafkaBus } from './kafka.js';
import { createLocalBus } from './local.js';
import { encodeEvent, runConsumer } from './consumer.js';
import type { EventBus } from './bus.js';

const ZIPKIN = (process.env.ZIPKIN_URL ?? 'http://127.0.0.1:9411').replace(/\/$/, '');
const logger = createLogger('test', 'silent');
const tracing = startTracing('events-test', { OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${ZIPKIN}/api/v2/spans`, OTEL_BSP_SCHEDULE_DELAY: '50' });
const localSchemas: string[] = [];

afterAll(async () => {
  await tracing.shutdown();
  for (const schema of localSchemas) await dropSchema(schema);
});

const buses: [string, () => Promise<EventBus>][] = [
  ['Kafka', async () => createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'test', prefix: `${uniqueName('t')}.`, logger })],
  [
    'the local PostgreSQL log',
    async () => {
      const schema = uniqueName('bus_trace');
      localSchemas.push(schema);
      return createLocalBus({ databaseUrl: services.databaseUrl, schema, logger, pollMs: 20 });
    },
  ],
];

const payload = (userId: string) => ({ userId, to: `${userId}@example.com`, template: 'welcome' as const, data: {} });

interface ZipkinSpan {
  id: string;
  parentId?: string;
  name: string;
  kind?: string;
  tags?: Record<string, string>;
}

describe.each(buses)('trace context over %s', (_name, makeBus) => {
  it('carries the trace from the publisher into the handler, and starts none outside a trace', async () => {
    const bus = await makeBus();
    const handled: { key: string; traceId: string | undefined }[] = [];
    const consumer = await runConsumer({
      bus,
      groupId: uniqueName('g'),
      topic: 'notifications.email.v1',
      logger,
      handle: async (event) => void handled.push({ key: event.key, traceId: activeTraceId() }),
    });
    try {
      const traced = uniqueName('traced');
      const traceId = await inSpan('request', {}, async (span) => {
        await bus.publish('notifications.email.v1', [encodeEvent('notifications.email.v1', traced, payload(traced))]);
        return span.spanContext().traceId;
      });
      const untraced = uniqueName('untraced');
      await bus.publish('notifications.email.v1', [encodeEvent('notifications.email.v1', untraced, payload(untraced))]);
      await eventually(async () => (handled.length === 2 ? true : undefined), 20_000);

      // The handler ran inside the publisher's trace; the other one in none.
      expect(handled.find((h) => h.key === traced)?.traceId).toBe(traceId);
      expect(handled.find((h) => h.key === untraced)?.traceId).toBeUndefined();

      await tracing.flush();
      const spans = await eventually(async () => {
        const response = await fetch(`${ZIPKIN}/api/v2/trace/${traceId}`);
        const found = response.ok ? ((await response.json()) as ZipkinSpan[]) : [];
        return found.length === 3 ? found : undefined;
      }, 10_000);
      const request = spans.find((s) => s.name === 'request')!;
      const send = spans.find((s) => s.name === 'send notifications.email.v1')!;
      const processed = spans.find((s) => s.name === 'process notifications.email.v1')!;
      expect(send).toMatchObject({ kind: 'PRODUCER', parentId: request.id });
      expect(processed).toMatchObject({ kind: 'CONSUMER', parentId: send.id });
      expect(processed.tags?.['messaging.system']).toBe(bus.kind);
    } finally {
      await consumer.stop();
      await bus.close();
    }
  }, 40_000);
});
