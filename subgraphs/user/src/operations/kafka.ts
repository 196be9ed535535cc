import { AssignerProtocol, Kafka, logLevel, type Admin, type GroupDescription } from 'kafkajs';
import client from 'prom-client';
import type { Logger } from '@analytica/logger';

/**
 * Kafka as an operator sees it, from the broker's admin API: how far each consumer group is behind
 * on each topic it reads, and how many messages each dead-letter topic (`<topic>.dlq`) holds. The
 * same snapshot feeds the admin fields and two gauges on /metrics (kafka_consumer_group_lag,
 * kafka_dead_letter_messages) that infra/prometheus/alerts.yml alerts on.
 */
export interface ConsumerGroupLagView {
  groupId: string;
  topic: string;
  /** Messages on the topic's partitions after the group's committed offsets. */
  lag: number;
  partitions: number;
}
export interface DeadLetterTopicView {
  topic: string;
  messages: number;
}
export interface KafkaSnapshot {
  groups: ConsumerGroupLagView[];
  deadLetters: DeadLetterTopicView[];
}
export type Availability<T> = { available: true; reason: null; value: T } | { available: false; reason: string; value: null };

export interface KafkaOperations {
  snapshot(): Promise<Availability<KafkaSnapshot>>;
  close(): Promise<void>;
}

/** The topics a group's members hold partitions of (the consumer protocol's assignment, decoded). */
function assignedTopics(group: GroupDescription): string[] {
  const topics = new Set<string>();
  for (const member of group.members) {
    try {
      const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
      for (const topic of Object.keys(decoded?.assignment ?? {})) topics.add(topic);
    } catch {
      // Not the consumer protocol (another kind of group): no topics to report.
    }
  }
  return [...topics];
}

/** Under `npm start` events go through the embedded log in PostgreSQL: there is no broker to ask. */
export function noKafka(reason: string): KafkaOperations {
  return { snapshot: async () => ({ available: false, reason, value: null }), close: async () => undefined };
}

export interface KafkaOperationsOptions {
  brokers: string[];
  /** KAFKA_TOPIC_PREFIX: only this deployment's groups and topics are read, shown without it. */
  prefix: string;
  logger: Logger;
  /** A snapshot is reused this long: Prometheus scrapes every 5 s and the console polls. */
  cacheMs?: number;
  timeoutMs?: number;
}

export function kafkaOperations(options: KafkaOperationsOptions): KafkaOperations {
  const { prefix } = options;
  const cacheMs = options.cacheMs ?? 4000;
  const timeoutMs = options.timeoutMs ?? 5000;
  const kafka = new Kafka({
    clientId: 'user-operations',
    brokers: options.brokers,
    connectionTimeout: 2000,
    requestTimeout: timeoutMs,
    // Few retries: an operator's page should say "unavailable" quickly rather than wait for the broker.
    retry: { retries: 1, initialRetryTime: 200 },
    logLevel: logLevel.NOTHING,
  });
  let admin: Admin | undefined;
  let cached: { at: number; result: Availability<KafkaSnapshot> } | undefined;
  let inFlight: Promise<Availability<KafkaSnapshot>> | undefined;
  let lastFailure: string | undefined;

  const mine = (name: string) => name.startsWith(prefix);
  const unprefixed = (name: string) => name.slice(prefix.length);

  async function read(): Promise<KafkaSnapshot> {
    if (!admin) {
      const candidate = kafka.admin();
      await candidate.connect();
      admin = candidate;
    }
    const a = admin;
    const [topics, { groups }] = await Promise.all([a.listTopics(), a.listGroups()]);
    // High and low watermarks of each topic read here, fetched once.
    const watermarks = new Map<string, Promise<{ partition: number; high: number; low: number }[]>>();
    const offsetsOf = (topic: string) => {
      let entry = watermarks.get(topic);
      if (!entry) {
        entry = a.fetchTopicOffsets(topic).then((list) => list.map((p) => ({ partition: p.partition, high: Number(p.high), low: Number(p.low) })));
        watermarks.set(topic, entry);
      }
      return entry;
    };
    const known = new Set(topics);
    const groupIds = groups.map((g) => g.groupId).filter(mine);
    // The topics each group's members are assigned now: a group that has not committed yet (nothing
    // arrived since it started) still counts, its lag from the start of the topic (every consumer
    // here subscribes fromBeginning).
    const described = groupIds.length ? (await a.describeGroups(groupIds)).groups : [];
    const assigned = new Map(described.map((d) => [d.groupId, assignedTopics(d)]));
    const groupRows = await Promise.all(
      groupIds.map(async (groupId) => {
        const committed = await a.fetchOffsets({ groupId });
        for (const topic of assigned.get(groupId) ?? []) if (!committed.some((t) => t.topic === topic)) committed.push({ topic, partitions: [] });
        return Promise.all(
          committed
            .filter((t) => known.has(t.topic) && mine(t.topic))
            .map(async (t) => {
              const marks = await offsetsOf(t.topic);
              let lag = 0;
              for (const mark of marks) {
                const offset = Number(t.partitions.find((p) => p.partition === mark.partition)?.offset ?? -1);
                // No committed offset yet: everything still on the partition is unread.
                lag += Math.max(0, mark.high - (offset >= 0 ? offset : mark.low));
              }
              return { groupId: unprefixed(groupId), topic: unprefixed(t.topic), lag, partitions: marks.length };
            }),
        );
      }),
    );
    const deadLetters = await Promise.all(
      topics
        .filter((t) => mine(t) && t.endsWith('.dlq'))
        .map(async (topic) => ({ topic: unprefixed(topic), messages: (await offsetsOf(topic)).reduce((sum, p) => sum + Math.max(0, p.high - p.low), 0) })),
    );
    const byName =
      <T>(key: (x: T) => string) =>
      (x: T, y: T) =>
        key(x).localeCompare(key(y));
    return {
      groups: groupRows.flat().sort(byName((r) => `${r.groupId}\u0000${r.topic}`)),
      deadLetters: deadLetters.sort(byName((r) => r.topic)),
    };
  }

  async function snapshot(): Promise<Availability<KafkaSnapshot>> {
    if (cached && Date.now() - cached.at < cacheMs) return cached.result;
    inFlight ??= (async () => {
      let result: Availability<KafkaSnapshot>;
      try {
        let timer: NodeJS.Timeout | undefined;
        const value = await Promise.race([
          read(),
          new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
        ]).finally(() => clearTimeout(timer));
        result = { available: true, reason: null, value };
        if (lastFailure) options.logger.info('kafka admin reachable again');
        lastFailure = undefined;
      } catch (error) {
        const message = (error as Error).message;
        result = { available: false, reason: `Kafka at ${options.brokers.join(',')} did not answer: ${message}`, value: null };
        // A new connection next time: the old one may be half-open.
        await admin?.disconnect().catch(() => undefined);
        admin = undefined;
        // One warning per change of state, not one per scrape.
        if (lastFailure !== message) options.logger.warn({ err: error }, 'kafka admin unavailable; consumer lag and dead letters are not known');
        lastFailure = message;
      }
      cached = { at: Date.now(), result };
      return result;
    })().finally(() => (inFlight = undefined));
    return inFlight;
  }

  return {
    snapshot,
    async close() {
      await admin?.disconnect().catch(() => undefined);
    },
  };
}

/**
 * kafka_consumer_group_lag{group,topic} and kafka_dead_letter_messages{topic}, read at each scrape
 * from the (briefly cached) snapshot. When Kafka does not answer the series go away, and
 * kafka_admin_up says 0, so that an alert on lag never reads a stale number.
 */
export function registerKafkaMetrics(registry: client.Registry, kafka: KafkaOperations) {
  // Each gauge reads the snapshot when collected (one Kafka read serves all three: it is cached).
  new client.Gauge({
    name: 'kafka_consumer_group_lag',
    help: "Messages after the consumer group's committed offsets, per topic",
    labelNames: ['group', 'topic'],
    registers: [registry],
    async collect() {
      const result = await kafka.snapshot();
      this.reset();
      if (result.available) for (const g of result.value.groups) this.set({ group: g.groupId, topic: g.topic }, g.lag);
    },
  });
  new client.Gauge({
    name: 'kafka_dead_letter_messages',
    help: 'Messages held by each dead-letter topic (<topic>.dlq)',
    labelNames: ['topic'],
    registers: [registry],
    async collect() {
      const result = await kafka.snapshot();
      this.reset();
      if (result.available) for (const d of result.value.deadLetters) this.set({ topic: d.topic }, d.messages);
    },
  });
  new client.Gauge({
    name: 'kafka_admin_up',
    help: '1 when the last read of consumer lag and dead letters from Kafka succeeded, else 0',
    registers: [registry],
    async collect() {
      this.set((await kafka.snapshot()).available ? 1 : 0);
    },
  });
}
