import { bool, kafkaEnv, list, parseEnv, serviceEnv, z } from '@analytica/config';

const positive = z.coerce.number().positive();

export const marketFeedEnvShape = {
  ...serviceEnv(4012),
  ...kafkaEnv,
  /** live: simulated prices; replay: a CSV of historical ticks or bars. */
  FEED_MODE: z.enum(['live', 'replay']).default('live'),
  /** Only these symbols (comma-separated); all reference instruments when unset. */
  FEED_SYMBOLS: list.optional(),
  /** Ticks per second for each symbol whose venue is open. */
  FEED_TICKS_PER_SYMBOL: positive.max(1000).default(1),
  /** Ticks per second in all, shared by the open symbols (e.g. 20000 for a load test); overrides FEED_TICKS_PER_SYMBOL. */
  FEED_TICKS_PER_SECOND: positive.max(1_000_000).optional(),
  /**
   * Symbols that trade FEED_TICKS_PER_SYMBOL times a second each while their venue is open, on a
   * regular beat and outside FEED_TICKS_PER_SECOND's share (a demo's watchlist); none when unset.
   */
  FEED_STEADY_SYMBOLS: list.optional(),
  /** Trade around the clock, ignoring venue hours (tests and benchmarks). */
  FEED_ALWAYS_OPEN: bool(false),
  /** Seed of the price generator: the same seed gives the same prices. */
  FEED_SEED: z.coerce.number().int().min(0).default(20261101),
  /** Speeds up price moves for a livelier demo; 1 moves like a real market. */
  FEED_VOLATILITY_MULTIPLIER: positive.max(10_000).default(1),
  /** Ticks kept while Kafka is unreachable; beyond it the oldest are dropped (counted in feed_ticks_dropped_total). */
  FEED_BUFFER_MAX: z.coerce.number().int().min(1).max(10_000_000).default(100_000),
  /** Most ticks per send. */
  FEED_BATCH_MAX: z.coerce.number().int().min(1).max(100_000).default(2000),
  /** Where prices are kept across restarts (JSON); none when unset. */
  FEED_STATE_FILE: z.string().min(1).optional(),
  /** Replay: the CSV to play; the bundled sample of ticks when unset. */
  FEED_REPLAY_FILE: z.string().min(1).optional(),
  /** Replay: 1 plays in real time, 60 plays an hour a minute. */
  FEED_REPLAY_SPEED: positive.max(1_000_000).default(1),
  /** Replay: start again at the end (only with rebased times). */
  FEED_REPLAY_LOOP: bool(true),
  /** Replay: rebase (the first row happens now) or original (the file's times, played once). */
  FEED_REPLAY_TIMESTAMPS: z.enum(['rebase', 'original']).default('rebase'),
  /** Replay of bars: the length of one bar. */
  FEED_REPLAY_BAR_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
};
export type MarketFeedEnv = z.infer<z.ZodObject<typeof marketFeedEnvShape>>;
export const parseMarketFeedEnv = (source: Record<string, string | undefined>) => parseEnv(marketFeedEnvShape, source);
