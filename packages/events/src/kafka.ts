import { Kafka, logLevel, type Producer, type Consumer as KafkaConsumer } from 'kafkajs';
import type { Logger } from '@analytica/logger';
import type { BusMessage, ConsumeOptions, Consumer, EventBus } from './bus.js';
import { publishTraced } from './tracing.js';

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  /** Prepended to every topic and group id, so that test runs never share topics. */
  prefix?: string;
  logger: Logger;
  /** KAFKA_SESSION_TIMEOUT_MS (packages/config): how soon a dead member's partitions go to the others. */
  sessionTimeoutMs?: number;
}

export function createKafkaBus(options: KafkaBusOptions): EventBus {
  const prefix = options.prefix ?? '';
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: 3000,
    // Backoff capped at 2 s (kafkajs' default cap is 30 s): after a broker outage the clients try
    // again within 2 s of its return instead of up to half a minute later. A send or a consumer
    // that runs out of tries fails and is tried again by its caller (the outbox relay, the
    // consumer's restart), so the short budget loses nothing.
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log }) => {
        const { message, ...extra } = log;
        const method = level <= logLevel.ERROR ? 'error' : 'warn';
        options.logger[method]({ namespace, ...extra }, `kafka: ${message}`);
      },
  });
  const admin = kafka.admin();
  let producer: Producer | undefined;
  let producerReady: Promise<Producer> | undefined;
  const consumers = new Set<KafkaConsumer>();
  const knownTopics = new Set<string>();

  async function ensureTopics(topics: string[]) {
    const missing = topics.filter((t) => !knownTopics.has(t));
    if (missing.length === 0) return;
    await admin.connect();
    // Several services create the same topics at start-up. On a fresh broker the loser of that race
    // can be told "This server does not host this topic-partition" while the winner's topic is
    // still being placed: a retriable answer that kafkajs's createTopics does not retry itself.
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.createTopics({ topics: missing.map((topic) => ({ topic, numPartitions: 3 })), waitForLeaders: true });
        await admin.fetchTopicMetadata({ topics: missing });
        break;
      } catch (error) {
        if (!(error as { retriable?: boolean }).retriable || attempt >= 10) throw error;
        options.logger.warn({ err: error, topics: missing, attempt }, 'topics not ready yet; retrying');
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
    missing.forEach((t) => knownTopics.add(t));
  }

  function getProducer() {
    producerReady ??= (async () => {
      const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
      await p.connect();
      producer = p;
      return p;
    })();
    return producerReady;
  }

  return {
    kind: 'kafka',
    async publish(topic: string, messages: BusMessage[]) {
      if (messages.length === 0) return;
      await ensureTopics([prefix + topic]);
      const p = await getProducer();
      await publishTraced('kafka', topic, messages, async (traced) => {
        await p.send({
          topic: prefix + topic,
          acks: -1,
          messages: traced.map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
        });
      });
    },
    async consume(consume: ConsumeOptions): Promise<Consumer> {
      const topics = consume.topics.map((t) => prefix + t);
      await ensureTopics(topics);
      // Heartbeats at a tenth of the session (Kafka advises at most a third): one or two lost are no death.
      const consumer = kafka.consumer({ groupId: prefix + consume.groupId, sessionTimeout: sessionTimeoutMs, heartbeatInterval: Math.floor(sessionTimeoutMs / 10) });
      consumers.add(consumer);
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        autoCommit: true,
        eachMessage: async ({ topic, partition, message, heartbeat }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = v.toString();
          await consume.handle(
            {
              topic: topic.slice(prefix.length),
              partition,
              offset: message.offset,
              key: message.key?.toString() ?? '',
              value: message.value?.toString() ?? '',
              headers,
            },
            heartbeat,
          );
        },
      });
      return {
        async stop() {
          consumers.delete(consumer);
          await consumer.disconnect();
        },
      };
    },
    async ping() {
      await admin.connect();
      await admin.describeCluster();
    },
    async close() {
      await Promise.all([...consumers].map((c) => c.disconnect()));
      if (producer) await producer.disconnect();
      await admin.disconnect();
    },
  };
}
