import { afterAll, describe, expect, it } from 'vitest';
import { currentRequestId, withRequestId } from '@analytica/errors';
import { createLogger } from '@analytica/logger';
import { dropSchema, eventually, services, uniqueName } from '@analytica/testing';
import { createKafkaBus } from './kafka.js';
import { createLocalBus } from './local.js';
import { deadLetterTopic, encodeEvent, HEADER, runConsumer, type Event } from './consumer.js';
import type { EventBus, ReceivedMessage } from './bus.js';

const logger = createLogger('test', 'silent');
// Each local bus gets its own schema, as each Kafka bus gets its own topic prefix.
const localSchemas: string[] = [];

afterAll(async () => {
  for (const schema of localSchemas) await dropSchema(schema);
});

const buses: [string, () => Promise<EventBus>][] = [
  ['Kafka', async () => createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'test', prefix: `${uniqueName('t')}.`, logger })],
  [
    'the local PostgreSQL log',
    async () => {
      const schema = uniqueName('bus_test');
      localSchemas.push(schema);
      return createLocalBus({ databaseUrl: services.databaseUrl, schema, logger, pollMs: 20 });
    },
  ],
];

const payload = (userId: string) => ({
  userId,
  transactionId: 't1',
  accountId: 'a1',
  categoryId: null,
  amountMinor: '-1250',
  currency: 'EUR',
  payee: 'Corner Market',
  bookedAt: '2026-11-01T10:00:00.000Z',
});

/** Collects what lands on a dead-letter topic. */
async function watchDeadLetters(bus: EventBus, topic: string, groupId: string) {
  const seen: ReceivedMessage[] = [];
  const consumer = await bus.consume({ groupId, topics: [deadLetterTopic(topic)], handle: async (m) => void seen.push(m) });
  return { seen, stop: () => consumer.stop() };
}

describe.each(buses)('runConsumer on %s', (_name, makeBus) => {
  it('retries a failing handler through the retry tiers until it succeeds, without holding up the next message', async () => {
    const bus = await makeBus();
    const group = uniqueName('g');
    const attempts = new Map<string, number>();
    const done: string[] = [];
    const consumer = await runConsumer({
      bus,
      logger,
      groupId: group,
      topic: 'transactions.recorded.v1',
      retryDelaysMs: [50, 100],
      handle: async (event: Event<'transactions.recorded.v1'>) => {
        const n = (attempts.get(event.id) ?? 0) + 1;
        attempts.set(event.id, n);
        if (event.payload.userId === 'flaky' && n < 3) throw new Error('bank timeout');
        done.push(event.payload.userId);
      },
    });
    try {
      await bus.publish('transactions.recorded.v1', [
        encodeEvent('transactions.recorded.v1', 'k', payload('flaky')),
        encodeEvent('transactions.recorded.v1', 'k', payload('steady')),
      ]);
      await eventually(async () => (done.includes('flaky') && done.includes('steady') ? true : undefined), 20_000);
      expect([...attempts.values()].sort()).toEqual([1, 3]);
      expect(done).toEqual(['steady', 'flaky']);
    } finally {
      await consumer.stop();
      await bus.close();
    }
  });

  it('sends a malformed message straight to the dead-letter topic with the reason, and keeps flowing', async () => {
    const bus = await makeBus();
    const group = uniqueName('g');
    const handled: string[] = [];
    const dlq = await watchDeadLetters(bus, 'transactions.recorded.v1', uniqueName('dlq'));
    const consumer = await runConsumer({
      bus,
      logger,
      groupId: group,
      topic: 'transactions.recorded.v1',
      retryDelaysMs: [50],
      handle: async (event) => void handled.push(event.payload.userId),
    });
    try {
      await bus.publish('transactions.recorded.v1', [
        { key: 'k', value: '{"userId": 42', headers: { [HEADER.id]: 'poison' } },
        encodeEvent('transactions.recorded.v1', 'k', payload('after-poison')),
      ]);
      await eventually(async () => (handled.includes('after-poison') && dlq.seen.length === 1 ? true : undefined), 20_000);
      expect(dlq.seen[0]?.headers[HEADER.reason]).toMatch(/^malformed message/);
      expect(dlq.seen[0]?.value).toBe('{"userId": 42');
    } finally {
      await dlq.stop();
      await consumer.stop();
      await bus.close();
    }
  });

  it('dead-letters a message whose handler keeps failing, after the last retry tier', async () => {
    const bus = await makeBus();
    const dlq = await watchDeadLetters(bus, 'transactions.recorded.v1', uniqueName('dlq'));
    let calls = 0;
    const consumer = await runConsumer({
      bus,
      logger,
      groupId: uniqueName('g'),
      topic: 'transactions.recorded.v1',
      retryDelaysMs: [50, 50],
      handle: async () => {
        calls++;
        throw new Error('ledger unavailable');
      },
    });
    try {
      await bus.publish('transactions.recorded.v1', [encodeEvent('transactions.recorded.v1', 'k', payload('doomed'))]);
      await eventually(async () => (dlq.seen.length === 1 ? true : undefined), 20_000);
      expect(calls).toBe(3);
      expect(dlq.seen[0]?.headers[HEADER.reason]).toBe('ledger unavailable');
      expect(dlq.seen[0]?.headers[HEADER.attempt]).toBe('2');
    } finally {
      await dlq.stop();
      await consumer.stop();
      await bus.close();
    }
  });

  it('resumes after the last committed message when a consumer restarts', async () => {
    const bus = await makeBus();
    const group = uniqueName('g');
    const seen: string[] = [];
    const handle = async (event: Event<'transactions.recorded.v1'>) => void seen.push(event.payload.userId);
    let consumer = await runConsumer({ bus, logger, groupId: group, topic: 'transactions.recorded.v1', handle });
    try {
      await bus.publish('transactions.recorded.v1', [encodeEvent('transactions.recorded.v1', 'k', payload('first'))]);
      await eventually(async () => (seen.includes('first') ? true : undefined), 20_000);
      await consumer.stop();
      await bus.publish('transactions.recorded.v1', [encodeEvent('transactions.recorded.v1', 'k', payload('second'))]);
      consumer = await runConsumer({ bus, logger, groupId: group, topic: 'transactions.recorded.v1', handle });
      await eventually(async () => (seen.includes('second') ? true : undefined), 30_000);
      expect(seen).toEqual(['first', 'second']);
    } finally {
      await consumer.stop();
      await bus.close();
    }
  });

  it('handles an event made during a request as part of that request (its request id), and one made outside any as part of none', async () => {
    const bus = await makeBus();
    const group = uniqueName('g');
    const seen = new Map<string, string | undefined>();
    const consumer = await runConsumer({
      bus,
      logger,
      groupId: group,
      topic: 'transactions.recorded.v1',
      handle: async (event) => void seen.set(event.payload.userId, currentRequestId()),
    });
    try {
      const made = withRequestId('req-42', () => encodeEvent('transactions.recorded.v1', 'k', payload('in-request')));
      expect(made.headers[HEADER.requestId]).toBe('req-42');
      await bus.publish('transactions.recorded.v1', [made, encodeEvent('transactions.recorded.v1', 'k', payload('no-request'))]);
      await eventually(async () => (seen.size === 2 ? true : undefined), 20_000);
      expect(seen.get('in-request')).toBe('req-42');
      expect(seen.get('no-request')).toBeUndefined();
    } finally {
      await consumer.stop();
      await bus.close();
    }
  });
});
