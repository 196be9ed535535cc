import { randomUUID } from 'node:crypto';
import type { Logger } from '@analytica/logger';
import type { BusMessage, Consumer, EventBus, ReceivedMessage } from './bus.js';
import { contracts, type EventPayload, type Topic } from './contracts.js';
import { consumeTraced } from './tracing.js';
import { traceHeaders } from '@analytica/telemetry/context';
import { currentRequestId, isRequestId, withRequestId } from '@analytica/errors';

export interface Event<T extends Topic> {
  id: string;
  topic: T;
  key: string;
  occurredAt: string;
  payload: EventPayload<T>;
}

/** A failure that no retry will fix (a declined card, a missing record): straight to the dead-letter topic. */
export class PermanentFailure extends Error {
  override name = 'PermanentFailure';
}

export const HEADER = {
  id: 'event-id',
  type: 'event-type',
  occurredAt: 'occurred-at',
  attempt: 'attempt',
  notBefore: 'not-before',
  reason: 'dlq-reason',
  sourceTopic: 'source-topic',
  /**
   * The request the event was made in (x-request-id), when it was made in one: a consumer handles
   * it as part of that request, so that the worker's log lines are found by the same id.
   */
  requestId: 'request-id',
} as const;

export function encodeEvent<T extends Topic>(topic: T, key: string, payload: EventPayload<T>, id: string = randomUUID()): BusMessage {
  const parsed = contracts[topic].parse(payload);
  return {
    key,
    value: JSON.stringify(parsed),
    // The trace of the request (or message) that produced the event rides along: an outbox row
    // keeps it from the write until the relay sends it.
    headers: { [HEADER.id]: id, [HEADER.type]: topic, [HEADER.occurredAt]: new Date().toISOString(), ...requestIdHeader(), ...traceHeaders() },
  };
}

function requestIdHeader(): Record<string, string> {
  const requestId = currentRequestId();
  return requestId ? { [HEADER.requestId]: requestId } : {};
}

/** Handles a message inside the request it was made in (its `request-id` header), if any. */
function asPartOfItsRequest<T>(message: ReceivedMessage, work: () => Promise<T>): Promise<T> {
  const requestId = message.headers[HEADER.requestId];
  return isRequestId(requestId) ? withRequestId(requestId, work) : work();
}

const retryTopic = (topic: string, delayMs: number) => `${topic}.retry.${delayMs >= 1000 ? `${delayMs / 1000}s` : `${delayMs}ms`}`;
export const deadLetterTopic = (topic: string) => `${topic}.dlq`;

export interface RunConsumerOptions<T extends Topic> {
  bus: EventBus;
  groupId: string;
  topic: T;
  logger: Logger;
  /** One retry tier per delay; after the last, the message goes to `<topic>.dlq`. */
  retryDelaysMs?: number[];
  handle(event: Event<T>): Promise<void>;
}

/**
 * Consumes one topic with its retry tiers. A message that does not match the topic's contract
 * goes straight to the dead-letter topic with the reason; a handler failure is re-published to the
 * next retry tier with a not-before time, and after the last tier to the dead-letter topic. Either
 * way the partition keeps flowing. Delivery is at least once, so handlers must be idempotent
 * (they record the event id in the same transaction as their effect).
 */
export async function runConsumer<T extends Topic>(options: RunConsumerOptions<T>): Promise<Consumer> {
  const { bus, topic, logger } = options;
  const delays = options.retryDelaysMs ?? [1000, 10_000, 60_000];
  const tiers = [...new Set(delays.map((d) => retryTopic(topic, d)))];

  async function deadLetter(message: ReceivedMessage, reason: string) {
    logger.warn({ topic, offset: message.offset, key: message.key, reason }, 'message sent to dead-letter topic');
    await bus.publish(deadLetterTopic(topic), [
      { key: message.key, value: message.value, headers: { ...message.headers, [HEADER.reason]: reason.slice(0, 1000), [HEADER.sourceTopic]: message.topic } },
    ]);
  }

  return bus.consume({
    groupId: options.groupId,
    topics: [topic, ...tiers],
    handle: (message, heartbeat) => consumeTraced(bus.kind, options.groupId, message, () => asPartOfItsRequest(message, () => handle(message, heartbeat))),
  });

  async function handle(message: ReceivedMessage, heartbeat: () => Promise<void>) {
    const notBefore = Number(message.headers[HEADER.notBefore] ?? 0);
    // Each tier holds one delay, so its messages are due in order: waiting on the head is enough.
    while (Date.now() < notBefore) {
      await sleep(Math.min(notBefore - Date.now(), 1000));
      await heartbeat();
    }
    let payload: EventPayload<T>;
    try {
      payload = contracts[topic].parse(JSON.parse(message.value)) as EventPayload<T>;
    } catch (error) {
      await deadLetter(message, `malformed message: ${describe(error)}`);
      return;
    }
    const event: Event<T> = {
      id: message.headers[HEADER.id] ?? `${message.topic}:${message.partition}:${message.offset}`,
      topic,
      key: message.key,
      occurredAt: message.headers[HEADER.occurredAt] ?? new Date().toISOString(),
      payload,
    };
    try {
      await options.handle(event);
    } catch (error) {
      const attempt = Number(message.headers[HEADER.attempt] ?? 0);
      const next = delays[attempt];
      if (error instanceof PermanentFailure || next === undefined) {
        await deadLetter(message, describe(error));
        return;
      }
      logger.warn({ topic, eventId: event.id, attempt: attempt + 1, err: error }, 'handler failed; retrying later');
      await bus.publish(retryTopic(topic, next), [
        {
          key: message.key,
          value: message.value,
          headers: { ...message.headers, [HEADER.attempt]: String(attempt + 1), [HEADER.notBefore]: String(Date.now() + next) },
        },
      ]);
    }
  }
}

function describe(error: unknown) {
  if (error instanceof Error) return error.message;
  return String(error);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a consumer, trying again a few times on errors Kafka marks retriable: while another
 * process creates the same topic, the broker answers "unknown topic or partition" for a moment.
 */
export async function startConsumerWithRetries<T>(what: string, logger: Logger, start: () => Promise<T>, attempts = 6): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      const retriable = (error as { retriable?: boolean }).retriable === true || /^KafkaJS/.test((error as Error)?.name ?? '');
      if (attempt >= attempts || !retriable) throw error;
      logger.warn({ err: error, attempt }, `${what} could not start yet; trying again`);
      await new Promise((r) => setTimeout(r, 300 * attempt));
    }
  }
}
