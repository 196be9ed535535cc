import type { BusMessage, EventBus } from '@analytica/events';
import type { Logger } from '@analytica/logger';
import type { TickBuffer } from './buffer.js';

export interface PublisherOptions {
  bus: EventBus;
  topic: string;
  buffer: TickBuffer<BusMessage>;
  batchMax: number;
  logger: Logger;
  onPublished?: (count: number) => void;
  onFailure?: (error: unknown) => void;
  /** First wait after a failed send; doubles up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Drains the buffer into the bus, one send at a time (in order, so each symbol's ticks stay in
 * sequence). A failed send keeps its ticks in the buffer and is tried again with backoff; the
 * Kafka client reconnects by itself on the next send.
 */
export function startPublisher(options: PublisherOptions) {
  const { buffer, logger } = options;
  let running = true;
  let wake: (() => void) | undefined;
  let failingSince: number | undefined;
  let lastError: string | undefined;
  const backoffStart = options.backoffMs ?? 200;
  const maxBackoff = options.maxBackoffMs ?? 5000;

  const idle = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const loop = (async () => {
    let backoff = backoffStart;
    while (running || buffer.size > 0) {
      if (buffer.size === 0) {
        await idle(1000);
        continue;
      }
      const { from, items } = buffer.peek(options.batchMax);
      try {
        await options.bus.publish(options.topic, items);
        buffer.acknowledge(from, items.length);
        options.onPublished?.(items.length);
        if (failingSince !== undefined) logger.info({ buffered: buffer.size, dropped: buffer.dropped }, 'publishing again');
        failingSince = undefined;
        lastError = undefined;
        backoff = backoffStart;
      } catch (error) {
        options.onFailure?.(error);
        if (failingSince === undefined) {
          failingSince = Date.now();
          logger.warn({ err: error, buffered: buffer.size }, 'cannot publish ticks; buffering and retrying');
        }
        // /ready is on the public port: it names the kind of failure, the log has the message
        // (broker addresses and all).
        lastError = error instanceof Error ? `${error.name}; the log has the details` : 'an error; the log has the details';
        if (!running) break;
        await idle(backoff);
        backoff = Math.min(backoff * 2, maxBackoff);
      }
    }
  })();

  return {
    /** New ticks are waiting. */
    notify() {
      wake?.();
    },
    /** Throws while sends fail, naming how much is buffered. */
    check() {
      if (failingSince !== undefined) {
        throw new Error(`publishing has failed for ${Math.round((Date.now() - failingSince) / 1000)} s (${lastError}); ${buffer.size} ticks buffered`);
      }
    },
    /** Stops after the buffer is drained, or after `timeoutMs` if the bus is away. */
    async stop(timeoutMs: number) {
      running = false;
      wake?.();
      await Promise.race([loop, new Promise((r) => setTimeout(r, timeoutMs))]);
    },
  };
}
