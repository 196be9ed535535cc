import { SpanKind, contextFromHeaders, endSpan, hasTrace, inSpan, spanHeaders, startSpan, type Span } from '@analytica/telemetry/context';
import type { BusMessage, ReceivedMessage } from './bus.js';

/**
 * Trace context across the bus. A message carries W3C `traceparent` (and `tracestate`) headers
 * beside the event id and time: written into the outbox row with the change, replaced on the way
 * out by the relay's and the producer's spans, read back by the consumer. Only work that belongs
 * to a trace is traced (a message without a traceparent, a publish outside any request, a market
 * tick, starts no trace of its own); with tracing off nothing here records or changes a header.
 */

/** The message with its trace headers pointing at `span` (unchanged when tracing is off). */
export function withSpanHeaders<M extends BusMessage>(message: M, span: Span | undefined): M {
  return span ? { ...message, headers: { ...message.headers, ...spanHeaders(span) } } : message;
}

/**
 * Sends `messages` with one PRODUCER span each (`send <topic>`, a child of the trace the message
 * carries or of the active one), ended when the bus acknowledged the batch.
 */
export async function publishTraced(system: 'kafka' | 'local', topic: string, messages: BusMessage[], send: (messages: BusMessage[]) => Promise<void>): Promise<void> {
  const spans = messages.map((m) => {
    // The trace the message carries, else the active one, else none.
    const carried = Boolean(m.headers.traceparent);
    if (!carried && !hasTrace()) return undefined;
    return startSpan(`send ${topic}`, {
      kind: SpanKind.PRODUCER,
      parent: carried ? contextFromHeaders(m.headers) : undefined,
      attributes: { 'messaging.system': system, 'messaging.destination.name': topic, 'messaging.operation.type': 'send', 'messaging.message.id': m.headers['event-id'] ?? '' },
    });
  });
  try {
    await send(messages.map((m, i) => withSpanHeaders(m, spans[i])));
  } catch (error) {
    for (const span of spans) if (span) endSpan(span, error);
    throw error;
  }
  for (const span of spans) if (span) endSpan(span);
}

/** Runs a consumer's handling of one message inside a CONSUMER span (`process <topic>`) of the message's trace. */
export function consumeTraced<T>(system: 'kafka' | 'local', groupId: string, message: ReceivedMessage, work: () => Promise<T>): Promise<T> {
  if (!message.headers.traceparent) return work();
  return inSpan(
    `process ${message.topic}`,
    {
      kind: SpanKind.CONSUMER,
      parent: contextFromHeaders(message.headers),
      attributes: {
        'messaging.system': system,
        'messaging.operation.type': 'process',
        'messaging.destination.name': message.topic,
        'messaging.consumer.group.name': groupId,
        'messaging.destination.partition.id': String(message.partition),
        'messaging.kafka.offset': message.offset,
        'messaging.message.id': message.headers['event-id'] ?? '',
      },
    },
    work,
  );
}
