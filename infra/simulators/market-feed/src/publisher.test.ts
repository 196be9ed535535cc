import { describe, expect, it } from 'vitest';
import type { BusMessage, EventBus } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { eventually } from '@analytica/testing';
import { createTickBuffer } from './buffer.js';
import { startPublisher } from './publisher.js';

/** A broker that is down until `up()`: sends fail as they would with Kafka unreachable. */
function flakyBus() {
  let available = false;
  const received: string[] = [];
  const bus = {
    kind: 'kafka',
    async publish(_topic: string, messages: BusMessage[]) {
      if (!available) throw new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
      received.push(...messages.map((m) => m.value));
    },
  } as unknown as EventBus;
  return { bus, received, up: () => (available = true) };
}
const message = (n: number): BusMessage => ({ key: 'AAPL', value: String(n), headers: {} });

describe('the publisher', () => {
  it('buffers while the broker is down, drops the oldest beyond the bound, and delivers the rest in order once it is back', async () => {
    const { bus, received, up } = flakyBus();
    const buffer = createTickBuffer<BusMessage>(50);
    let failures = 0;
    const publisher = startPublisher({
      bus,
      topic: 't',
      buffer,
      batchMax: 7,
      logger: createLogger('test', 'silent'),
      backoffMs: 10,
      maxBackoffMs: 20,
      onFailure: () => failures++,
    });
    for (let n = 1; n <= 80; n++) buffer.push(message(n));
    publisher.notify();
    await eventually(async () => (failures >= 3 ? true : undefined));
    expect(() => publisher.check()).toThrow(/50 ticks buffered/);
    expect(buffer.dropped).toBe(30);
    up();
    await eventually(async () => (buffer.size === 0 ? true : undefined));
    expect(received).toEqual(Array.from({ length: 50 }, (_, n) => String(n + 31)));
    expect(() => publisher.check()).not.toThrow();
    await publisher.stop(1000);
  });
});
