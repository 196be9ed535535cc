// What the feed actually produced, and what market-ingest actually published, per symbol: the
// denominators of "delivered". The feed picks which open symbol trades next by a weight (large
// caps trade more often), so each symbol's rate differs from 1/s: the ticks are counted, not assumed.
//
// - Feed: every message on the Kafka topic `market.ticks.v1`, read by a consumer group of the
//   bench's own, by its `exchangeTime` (the time the feed stamped it; `Quote.time` carries it on).
// - Ingest: every message market-ingest published on the Redis channels `Quote.<symbol>`, by its
//   `time`. Ingest folds the ticks of one symbol within one fetched batch into one quote, so it
//   may publish fewer messages than the feed made ticks; the gap is ingest's, not the gateway's.
import hdr from 'hdr-histogram-js';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { createRedis, type Redis } from '@analytica/redis';
import { services } from '@analytica/testing';

const TICKS_TOPIC = 'market.ticks.v1';

/** Per-symbol times (ms since the epoch) of everything seen, for counting by window afterwards. */
class TimesBySymbol {
  private readonly times: number[][];
  constructor(private readonly index: Map<string, number>) {
    this.times = Array.from({ length: index.size }, () => []);
  }
  add(symbol: string, timeMs: number) {
    const i = this.index.get(symbol);
    if (i !== undefined && Number.isFinite(timeMs)) this.times[i]!.push(timeMs);
  }
  /** How many per symbol fall in [from, to). */
  count(from: number, to: number): number[] {
    return this.times.map((list) => list.reduce((n, t) => (t >= from && t < to ? n + 1 : n), 0));
  }
  /** Forgets everything before `before` (keeps memory flat over long runs). */
  trim(before: number) {
    for (let i = 0; i < this.times.length; i++) this.times[i] = this.times[i]!.filter((t) => t >= before);
  }
}

export interface TickCounter {
  /** Ticks the feed stamped in [from, to), per symbol (in the order of `symbols`). */
  feedTicks(from: number, to: number): number[];
  /** Quote messages market-ingest published whose `time` is in [from, to), per symbol. */
  ingestPublished(from: number, to: number): number[];
  /** Waits until every partition of the ticks topic was read past `to` (or the timeout). */
  caughtUp(to: number, timeoutMs: number): Promise<boolean>;
  /**
   * From the quote's `time` to its arrival at the bench's Redis subscriber (the same moment the
   * gateway receives it, within a fraction of a millisecond), for messages stamped in [from, to):
   * the feed -> Kafka -> ingest -> Redis part of the end-to-end latency.
   */
  ingestLatency(from: number, to: number): { p50: number; p99: number; max: number; count: number };
  trim(before: number): void;
  stop(): Promise<void>;
}

export async function startTickCounter(options: { topicPrefix: string; redisPrefix: string; symbols: string[]; run: string }): Promise<TickCounter> {
  const index = new Map(options.symbols.map((s, i) => [s, i]));
  const feed = new TimesBySymbol(index);
  const ingest = new TimesBySymbol(index);
  /** [time, arrival] pairs of ingest's messages, for the latency split. */
  let arrivals: [number, number][] = [];
  const partitionTime = new Map<number, number>();

  const kafka = new Kafka({ clientId: 'bench-tick-counter', brokers: [services.kafkaBrokers], logLevel: logLevel.NOTHING });
  const topic = options.topicPrefix + TICKS_TOPIC;
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Three partitions, as the feed and ingest create it; whoever comes first creates it.
    if (!(await admin.listTopics()).includes(topic)) await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true }).catch(() => {});
  } finally {
    await admin.disconnect();
  }
  const consumer: Consumer = kafka.consumer({ groupId: `${options.run}.bench-tick-counter`, minBytes: 16 * 1024, maxWaitTimeInMs: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: true,
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        if (!message.value) continue;
        try {
          const tick = JSON.parse(message.value.toString()) as { symbol?: string; exchangeTime?: string };
          const time = Date.parse(tick.exchangeTime ?? '');
          if (tick.symbol) feed.add(tick.symbol, time);
          if (Number.isFinite(time)) partitionTime.set(batch.partition, Math.max(partitionTime.get(batch.partition) ?? 0, time));
        } catch {
          // not a tick
        }
      }
    },
  });

  const redis: Redis = createRedis(services.redisUrl, { name: 'bench-ingest-counter' });
  redis.on('pmessage', (_pattern: string, channel: string, message: string) => {
    const arrival = Date.now();
    const symbol = channel.slice(options.redisPrefix.length + 'Quote.'.length);
    try {
      const time = Date.parse((JSON.parse(message) as { time?: string }).time ?? '');
      ingest.add(symbol, time);
      if (Number.isFinite(time)) arrivals.push([time, arrival]);
    } catch {
      // not a quote
    }
  });
  await redis.psubscribe(`${options.redisPrefix}Quote.*`);

  return {
    feedTicks: (from, to) => feed.count(from, to),
    ingestPublished: (from, to) => ingest.count(from, to),
    async caughtUp(to, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (partitionTime.size >= 3 && [...partitionTime.values()].every((t) => t >= to)) return true;
        await new Promise((r) => setTimeout(r, 200));
      }
      return false;
    },
    ingestLatency(from, to) {
      const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 });
      for (const [time, arrival] of arrivals) if (time >= from && time < to) h.recordValue(Math.max(0, arrival - time));
      const s = h.summary;
      const result = { p50: s.p50, p99: s.p99, max: s.max, count: s.totalCount };
      h.destroy();
      return result;
    },
    trim(before) {
      feed.trim(before);
      ingest.trim(before);
      arrivals = arrivals.filter(([time]) => time >= before);
    },
    async stop() {
      await consumer.disconnect().catch(() => {});
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
