import { Kafka, logLevel, type EachBatchPayload } from 'kafkajs';
import { deadLetterTopic, HEADER, type BusMessage, type EventBus } from '@analytica/events';
import type { Logger } from '@analytica/logger';
import type { Instrument } from '@analytica/instruments';
import { BatchAbandoned, WriterConflict, type BatchOutcome, type Ingest } from './ingest.js';
import { parseTick, TICKS_TOPIC, type Tick } from './ticks.js';

export interface TickConsumerOptions {
  ingest: Ingest;
  /** Where dead letters go (and, through the ingest, price alerts). */
  bus: EventBus;
  instruments: ReadonlyMap<string, Instrument>;
  logger: Logger;
  groupId: string;
  flushMs: number;
  onBatch?: (outcome: BatchOutcome & { deadLetters: number }) => void;
  onFlush?: (candles: number, seconds: number) => void;
  onReset?: (reason: string) => void;
}

export interface TickConsumer {
  /** Member of the consumer group with partitions to read (or, on the local log, polling). */
  ready(): boolean;
  stop(): Promise<void>;
}

interface RawMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

function sortMessages(messages: readonly RawMessage[], instruments: ReadonlyMap<string, Instrument>) {
  const ticks: Tick[] = [];
  const dead: BusMessage[] = [];
  for (const message of messages) {
    const parsed = parseTick(message.value, instruments);
    if (parsed.ok) ticks.push(parsed.tick);
    else {
      dead.push({
        key: message.key,
        value: message.value,
        headers: { ...message.headers, [HEADER.reason]: parsed.reason.slice(0, 1000), [HEADER.sourceTopic]: TICKS_TOPIC },
      });
    }
  }
  return { ticks, dead };
}

/**
 * Consumes ticks from Kafka in batches (kafkajs `eachBatch`: the shared bus hands out one message
 * at a time, too slow for a market feed). A malformed tick goes to `market.ticks.v1.dlq` with
 * the reason, as `runConsumer` does, and the partition moves on. Nothing is retried through
 * retry topics: ticks must apply in order, so a failing store holds the partition (kafkajs retries
 * the batch with backoff) until it answers again.
 *
 * Offsets: a batch's quotes are in Redis before its offsets are resolved; candles are written
 * every `flushMs`, and only then are the offsets resolved before that flush committed. After a
 * crash or a rebalance the ticks since the last commit come again; quotes and candles skip those
 * they already hold (by sequence), so nothing is counted twice.
 */
export async function consumeTicksFromKafka(
  options: TickConsumerOptions & { brokers: string[]; prefix: string; partitionsConcurrency: number; fetchWaitMs: number; sessionTimeoutMs: number },
): Promise<TickConsumer> {
  const { ingest, logger, prefix } = options;
  const topic = prefix + TICKS_TOPIC;
  const kafka = new Kafka({
    clientId: 'market-ingest',
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
        logger[level <= logLevel.ERROR ? 'error' : 'warn']({ namespace, ...extra }, `kafka: ${message}`);
      },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Three partitions, as the shared bus creates topics; whoever comes first creates it.
    if (!(await admin.listTopics()).includes(topic)) await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }

  const consumer = kafka.consumer({
    groupId: prefix + options.groupId,
    sessionTimeout: options.sessionTimeoutMs,
    // A tenth of the session, as Kafka advises at most a third: a lost heartbeat or two is no death.
    heartbeatInterval: Math.floor(options.sessionTimeoutMs / 10),
    // A batch costs two Redis round trips whatever its size: the broker holds a fetch until 64 KB
    // (some 200 ticks) have come or the wait is over, so a quiet feed makes a few batches a second,
    // not one per tick, while a busy one is not held back (a megabyte would add 100 ms at 20,000/s).
    minBytes: 64 * 1024,
    maxWaitTimeInMs: options.fetchWaitMs,
    maxBytesPerPartition: 4 * 1024 * 1024,
    maxBytes: 16 * 1024 * 1024,
  });
  /** Next offset to read per partition, as far as quotes are written (resolved, not yet committed). */
  const pending = new Map<number, string>();
  /** The offset the group had committed per partition: where to go back to when the caches are dropped. */
  const committed = new Map<number, string>();
  let joined = false;
  let running = true;

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    // New assignment: another member may have moved any partition on meanwhile.
    ingest.reset();
    pending.clear();
    committed.clear();
    joined = true;
    logger.info({ partitions: payload.memberAssignment[topic] ?? [] }, 'joined the ingest group');
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    joined = false;
    logger.error({ err: payload.error, restart: payload.restart }, 'tick consumer crashed');
  });

  function rewind(reason: string) {
    ingest.reset();
    pending.clear();
    for (const [partition, offset] of committed) consumer.seek({ topic, partition, offset });
    options.onReset?.(reason);
    logger.warn({ reason }, 'caches dropped; reading again from the committed offsets');
  }

  const inFlight = new Set<Promise<void>>();
  async function eachBatch(payload: EachBatchPayload) {
    const work = processBatch(payload);
    inFlight.add(work);
    try {
      await work;
    } finally {
      inFlight.delete(work);
    }
  }

  async function processBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) {
    if (!running || !isRunning() || isStale() || batch.messages.length === 0) return;
    const partition = batch.partition;
    const epoch = ingest.epoch();
    if (!committed.has(partition)) committed.set(partition, batch.firstOffset()!);
    const { ticks, dead } = sortMessages(
      batch.messages.map((m) => ({
        key: m.key?.toString() ?? '',
        value: m.value?.toString() ?? '',
        headers: Object.fromEntries(Object.entries(m.headers ?? {}).flatMap(([k, v]) => (v === undefined ? [] : [[k, v.toString()]]))),
      })),
      options.instruments,
    );
    let outcome: BatchOutcome = { applied: 0, duplicates: 0, alerts: 0, quoteTimes: [] };
    try {
      if (ticks.length) outcome = await ingest.applyTicks(ticks);
      if (dead.length) {
        await options.bus.publish(deadLetterTopic(TICKS_TOPIC), dead);
        for (const d of dead) logger.warn({ key: d.key, reason: d.headers[HEADER.reason] }, 'tick sent to dead-letter topic');
      }
    } catch (error) {
      if (error instanceof WriterConflict) return rewind(error.message);
      if (error instanceof BatchAbandoned) return;
      throw error;
    }
    // Dropped caches meanwhile (a conflict elsewhere, a rebalance): this batch is read again.
    if (ingest.epoch() !== epoch) return;
    const last = batch.lastOffset();
    resolveOffset(last);
    pending.set(partition, String(BigInt(last) + 1n));
    options.onBatch?.({ ...outcome, deadLetters: dead.length });
    await heartbeat();
  }

  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.partitionsConcurrency,
    eachBatch,
  });

  async function flushAndCommit() {
    // Every tick up to these offsets is in the candle cache now; the flush below writes them.
    const epoch = ingest.epoch();
    const offsets = [...pending].map(([partition, offset]) => ({ topic, partition, offset }));
    const started = process.hrtime.bigint();
    const written = await ingest.flushCandles();
    options.onFlush?.(written, Number(process.hrtime.bigint() - started) / 1e9);
    if (offsets.length === 0 || ingest.epoch() !== epoch) return;
    await consumer.commitOffsets(offsets);
    for (const { partition, offset } of offsets) {
      committed.set(partition, offset);
      if (pending.get(partition) === offset) pending.delete(partition);
    }
  }

  let timer: NodeJS.Timeout | undefined;
  let flushDone = Promise.resolve();
  const scheduleFlush = () => {
    timer = setTimeout(() => {
      flushDone = flushAndCommit()
        .catch((error: unknown) => {
          if (error instanceof WriterConflict) rewind(error.message);
          else logger.warn({ err: error }, 'candle flush or commit failed; trying again at the next flush');
        })
        .finally(() => {
          if (running) scheduleFlush();
        });
    }, options.flushMs);
  };
  scheduleFlush();

  return {
    ready: () => joined,
    async stop() {
      // Stop taking batches, finish the ones in flight, write their candles and commit while
      // still a member of the group; only then leave it.
      running = false;
      clearTimeout(timer);
      consumer.pause([{ topic }]);
      await Promise.all(inFlight);
      await flushDone;
      await flushAndCommit().catch((error: unknown) => logger.warn({ err: error }, 'last candle flush failed; the ticks will be read again'));
      await consumer.stop();
      await consumer.disconnect();
    },
  };
}

/**
 * The embedded mode's path: the local event log hands out one message at a time and commits it
 * when the handler returns, so each tick's candles are written before returning.
 */
export async function consumeTicksFromBus(options: TickConsumerOptions): Promise<TickConsumer> {
  const { ingest, logger } = options;
  const consumer = await options.bus.consume({
    groupId: options.groupId,
    topics: [TICKS_TOPIC],
    async handle(message) {
      const { ticks, dead } = sortMessages([message], options.instruments);
      try {
        const outcome = ticks.length ? await ingest.applyTicks(ticks) : { applied: 0, duplicates: 0, alerts: 0, quoteTimes: [] };
        if (dead.length) await options.bus.publish(deadLetterTopic(TICKS_TOPIC), dead);
        const started = process.hrtime.bigint();
        const written = await ingest.flushCandles();
        options.onFlush?.(written, Number(process.hrtime.bigint() - started) / 1e9);
        options.onBatch?.({ ...outcome, deadLetters: dead.length });
      } catch (error) {
        if (error instanceof WriterConflict || error instanceof BatchAbandoned) {
          ingest.reset();
          options.onReset?.(error.message);
        }
        logger.warn({ err: error }, 'tick not applied; it will be delivered again');
        throw error;
      }
    },
  });
  return { ready: () => true, stop: () => consumer.stop() };
}
