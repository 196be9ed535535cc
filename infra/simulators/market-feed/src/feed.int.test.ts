import { describe, expect, it } from 'vitest';
import { contracts, createKafkaBus, type EventBus, type ReceivedMessage } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { eventually, freePort, services, uniqueName } from '@analytica/testing';
import { parseMarketFeedEnv, SAMPLE_BARS, startMarketFeed } from './index.js';

const logger = createLogger('test', 'silent');

async function watchTicks(bus: EventBus) {
  const seen: ReceivedMessage[] = [];
  const consumer = await bus.consume({ groupId: uniqueName('watch'), topics: ['market.ticks.v1'], handle: async (m) => void seen.push(m) });
  return { seen, stop: () => consumer.stop() };
}

const metric = (text: string, name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

describe('market feed simulator', () => {
  it('publishes valid ticks keyed by symbol to market.ticks.v1 at the configured rate, each symbol in sequence', async () => {
    const prefix = `${uniqueName('feed')}.`;
    const bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'feed-test', prefix, logger });
    const watch = await watchTicks(bus);
    const feed = await startMarketFeed(
      parseMarketFeedEnv({
        PORT: '0',
        LOG_LEVEL: 'silent',
        KAFKA_BROKERS: services.kafkaBrokers,
        KAFKA_TOPIC_PREFIX: prefix,
        FEED_ALWAYS_OPEN: 'true',
        FEED_TICKS_PER_SECOND: '200',
        FEED_SYMBOLS: 'AAPL,MSFT,SAP.DE',
      }),
    );
    try {
      await new Promise((r) => setTimeout(r, 3000));
      const metrics = await (await fetch(`${feed.metricsUrl}/metrics`)).text();
      const generated = (kind: string) => Number(new RegExp(`^feed_ticks_generated_total\\{[^}]*kind="${kind}"[^}]*\\} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
      const trades = generated('trade');
      expect(trades).toBeGreaterThan(450);
      expect(trades).toBeLessThan(750);
      // One OPEN status message per symbol at start, so that quotes say OPEN before their first trade.
      expect(generated('status')).toBe(3);
      const made = trades + 3;
      await eventually(async () => (watch.seen.length >= made ? true : undefined), 15_000, 100);
      const last = new Map<string, number>();
      for (const message of watch.seen) {
        const tick = contracts['market.ticks.v1'].parse(JSON.parse(message.value));
        expect(message.key).toBe(tick.symbol);
        expect(tick.seq).toBeGreaterThan(last.get(tick.symbol) ?? 0);
        last.set(tick.symbol, tick.seq);
        expect(tick.bid).toBeLessThan(tick.ask);
      }
      expect([...last.keys()].sort()).toEqual(['AAPL', 'MSFT', 'SAP.DE']);
      expect(await (await fetch(`${feed.url}/ready`)).json()).toMatchObject({ status: 'ready', checks: { kafka: 'ok' } });
    } finally {
      await feed.stop();
      await watch.stop();
      await bus.close();
    }
  });

  it('replays a CSV of bars at the chosen speed', async () => {
    const prefix = `${uniqueName('replay')}.`;
    const bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'feed-test', prefix, logger });
    const watch = await watchTicks(bus);
    // 30 minutes of bars at 600 times real time: three seconds.
    const feed = await startMarketFeed(
      parseMarketFeedEnv({
        PORT: '0',
        LOG_LEVEL: 'silent',
        KAFKA_BROKERS: services.kafkaBrokers,
        KAFKA_TOPIC_PREFIX: prefix,
        FEED_MODE: 'replay',
        FEED_REPLAY_FILE: SAMPLE_BARS,
        FEED_REPLAY_SPEED: '600',
        FEED_REPLAY_LOOP: 'false',
      }),
    );
    try {
      await eventually(async () => (watch.seen.length >= 360 ? true : undefined), 20_000, 100);
      const ticks = watch.seen.map((m) => contracts['market.ticks.v1'].parse(JSON.parse(m.value)));
      const apple = ticks.filter((t) => t.symbol === 'AAPL');
      expect(apple).toHaveLength(120);
      expect(apple[0]).toMatchObject({ last: 228.5, marketState: 'OPEN' });
      const span = Date.parse(apple.at(-1)!.exchangeTime) - Date.parse(apple[0]!.exchangeTime);
      expect(span).toBeGreaterThan(2500);
      expect(span).toBeLessThan(3500);
    } finally {
      await feed.stop();
      await watch.stop();
      await bus.close();
    }
  });

  it('buffers while Kafka cannot be reached, drops the oldest ticks beyond its bound, and says so', async () => {
    const feed = await startMarketFeed(
      parseMarketFeedEnv({
        PORT: '0',
        LOG_LEVEL: 'silent',
        KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
        FEED_ALWAYS_OPEN: 'true',
        FEED_TICKS_PER_SECOND: '500',
        FEED_BUFFER_MAX: '100',
      }),
    );
    try {
      const ready = await eventually(
        async () => {
          const response = await fetch(`${feed.url}/ready`);
          return response.status === 503 ? ((await response.json()) as { checks: { kafka: string } }) : undefined;
        },
        20_000,
        200,
      );
      expect(ready.checks.kafka).toMatch(/^unavailable: publishing has failed for \d+ s .*; \d+ ticks buffered$/);
      await eventually(
        async () => {
          const metrics = await (await fetch(`${feed.metricsUrl}/metrics`)).text();
          return metric(metrics, 'feed_ticks_dropped_total') > 0 && metric(metrics, 'feed_buffer_ticks') === 100 ? true : undefined;
        },
        10_000,
        200,
      );
    } finally {
      await feed.stop();
    }
  });
});
