import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import client from 'prom-client';
import { ConfigError } from '@analytica/config';
import { busFromEnv, encodeEvent, type BusMessage, type EventBus } from '@analytica/events';
import { readReferenceFile, type Instrument } from '@analytica/instruments';
import { createLogger } from '@analytica/logger';
import { createHttpService } from '@analytica/service';
import { createTickBuffer } from './buffer.js';
import type { MarketFeedEnv } from './environment.js';
import { TRADING_HOURS } from './exchanges.js';
import { createLiveFeed, type SavedFeedState } from './feed.js';
import { startPublisher } from './publisher.js';
import { createReplay, readReplayFile } from './replay.js';
import { TICKS_TOPIC, type TickPayload } from './ticks.js';

export { marketFeedEnvShape, parseMarketFeedEnv, type MarketFeedEnv } from './environment.js';
// The live price model without a service around it, for benchmarks that make realistic ticks.
export { createLiveFeed, type LiveFeedOptions, type SavedFeedState } from './feed.js';
export type { TickPayload } from './ticks.js';

export const SAMPLE_TICKS = fileURLToPath(new URL('../data/sample-ticks.csv', import.meta.url));
export const SAMPLE_BARS = fileURLToPath(new URL('../data/sample-bars.csv', import.meta.url));

export interface Dependencies {
  /** The embedded runner's local event log instead of Kafka; not closed here. */
  bus?: EventBus;
}

const STEP_MS = 20;

/**
 * Starts the market feed simulator: live simulated ticks (or a replayed CSV) published to
 * `market.ticks.v1`, keyed by symbol, through a bounded buffer that rides out Kafka outages.
 */
export async function startMarketFeed(env: MarketFeedEnv, deps: Dependencies = {}) {
  const logger = createLogger('market-feed', env.LOG_LEVEL);
  const { universe, steadySymbols } = await feedUniverse(env);
  const bus = busFromEnv(env, 'market-feed', logger, deps.bus);
  const buffer = createTickBuffer<BusMessage>(env.FEED_BUFFER_MAX);

  const service = createHttpService({
    name: 'market-feed',
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT,
    metricsHost: env.METRICS_HOST,
    logger,
    readiness: { [deps.bus ? 'events' : 'kafka']: async () => publisher.check() },
    onStop: async () => {
      clearInterval(timer);
      if (stateTimer) clearInterval(stateTimer);
      await publisher.stop(5000);
      await saveState();
      if (!deps.bus) await bus.close().catch((error: unknown) => logger.warn({ err: error }, 'closing the Kafka client failed'));
    },
  });
  const generated = new client.Counter({ name: 'feed_ticks_generated_total', help: 'Ticks made, by kind: trade or status', labelNames: ['kind'], registers: [service.registry] });
  const published = new client.Counter({ name: 'feed_ticks_published_total', help: 'Ticks the broker acknowledged', registers: [service.registry] });
  const failures = new client.Counter({ name: 'feed_publish_failures_total', help: 'Sends that failed (the ticks stay buffered)', registers: [service.registry] });
  new client.Gauge({
    name: 'feed_buffer_ticks',
    help: 'Ticks waiting to be published',
    registers: [service.registry],
    collect() {
      this.set(buffer.size);
    },
  });
  new client.Counter({
    name: 'feed_ticks_dropped_total',
    help: 'Oldest ticks dropped because the buffer was full',
    registers: [service.registry],
    collect() {
      this.reset();
      this.inc(buffer.dropped);
    },
  });

  const emit = (tick: TickPayload) => {
    buffer.push(encodeEvent(TICKS_TOPIC, tick.symbol, tick));
    generated.inc({ kind: tick.size > 0 ? 'trade' : 'status' });
  };
  const bySymbol = new Map(universe.map((i) => [i.symbol, i]));
  let saved: SavedFeedState | undefined;
  if (env.FEED_STATE_FILE) saved = await readState(env.FEED_STATE_FILE, logger);
  const source = await makeSource().catch(async (error: unknown) => {
    if (!deps.bus) await bus.close().catch(() => {});
    throw error;
  });
  async function makeSource() {
    return env.FEED_MODE === 'live'
      ? createLiveFeed({
          instruments: universe,
          ticksPerSymbol: env.FEED_TICKS_PER_SYMBOL,
          ticksPerSecond: env.FEED_TICKS_PER_SECOND,
          steadySymbols,
          alwaysOpen: env.FEED_ALWAYS_OPEN,
          seed: env.FEED_SEED,
          volatilityMultiplier: env.FEED_VOLATILITY_MULTIPLIER,
          emit,
          saved,
        })
      : createReplay({
          trades: await readReplayFile(env.FEED_REPLAY_FILE ?? SAMPLE_TICKS, bySymbol, env.FEED_REPLAY_BAR_SECONDS),
          instruments: bySymbol,
          speed: env.FEED_REPLAY_SPEED,
          loop: env.FEED_REPLAY_LOOP,
          timestamps: env.FEED_REPLAY_TIMESTAMPS,
          emit,
        });
  }
  const publisher = startPublisher({
    bus,
    topic: TICKS_TOPIC,
    buffer,
    batchMax: env.FEED_BATCH_MAX,
    logger,
    onPublished: (count) => published.inc(count),
    onFailure: () => failures.inc(),
  });
  const timer = setInterval(() => {
    if (source.step(Date.now()) > 0) publisher.notify();
  }, STEP_MS);
  source.step(Date.now());
  publisher.notify();

  async function saveState() {
    if (!env.FEED_STATE_FILE || !('snapshot' in source)) return;
    try {
      await mkdir(path.dirname(env.FEED_STATE_FILE), { recursive: true });
      await writeFile(`${env.FEED_STATE_FILE}.tmp`, JSON.stringify(source.snapshot()));
      await rename(`${env.FEED_STATE_FILE}.tmp`, env.FEED_STATE_FILE);
    } catch (error) {
      logger.warn({ err: error }, 'could not save the feed state');
    }
  }
  const stateTimer = env.FEED_STATE_FILE ? setInterval(() => void saveState(), 10_000) : undefined;

  logger.info(
    {
      mode: env.FEED_MODE,
      symbols: universe.length,
      steady: steadySymbols.size,
      perSymbol: env.FEED_TICKS_PER_SYMBOL,
      perSecond: env.FEED_TICKS_PER_SECOND,
      alwaysOpen: env.FEED_ALWAYS_OPEN,
      transport: bus.kind,
    },
    'feed started',
  );
  return service.start();
}

/**
 * The instruments the feed trades and its steady symbols, or a ConfigError naming the variable
 * that names an unknown symbol. A launcher calls it before it starts anything.
 */
export async function feedUniverse(env: Pick<MarketFeedEnv, 'FEED_SYMBOLS' | 'FEED_STEADY_SYMBOLS'>) {
  const reference = await readReferenceFile();
  const universe = chooseUniverse(reference.instruments, env.FEED_SYMBOLS);
  return { universe, steadySymbols: chooseSteady(universe, env.FEED_STEADY_SYMBOLS) };
}

function chooseUniverse(instruments: readonly Instrument[], symbols: string[] | undefined): Instrument[] {
  for (const i of instruments) if (!TRADING_HOURS[i.exchange]) throw new Error(`no trading hours known for ${i.exchange} (${i.symbol})`);
  if (!symbols) return [...instruments];
  const bySymbol = new Map(instruments.map((i) => [i.symbol, i]));
  return symbols.map((raw) => {
    const instrument = bySymbol.get(raw.toUpperCase());
    if (!instrument) throw new ConfigError([`FEED_SYMBOLS names "${raw}", which is not a reference instrument`]);
    return instrument;
  });
}

function chooseSteady(universe: readonly Instrument[], symbols: string[] | undefined): Set<string> {
  const traded = new Set(universe.map((i) => i.symbol));
  const steady = new Set((symbols ?? []).map((s) => s.toUpperCase()));
  for (const symbol of steady) {
    if (!traded.has(symbol)) throw new ConfigError([`FEED_STEADY_SYMBOLS names "${symbol}", which this feed does not trade (see FEED_SYMBOLS)`]);
  }
  return steady;
}

async function readState(file: string, logger: ReturnType<typeof createLogger>): Promise<SavedFeedState | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as SavedFeedState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn({ err: error, file }, 'feed state unreadable; starting from reference prices');
    return undefined;
  }
}
