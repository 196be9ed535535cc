import path from 'node:path';
import { parseEnv, z } from '@analytica/config';
import { neverCloses, readReferenceFile } from '@analytica/instruments';
import { feedUniverse, parseMarketFeedEnv, type MarketFeedEnv } from '@analytica/market-feed-simulator';
import { DEMO_WATCHLIST } from './demo.js';

const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);

/** The embedded launcher's own variables (npm start); every service's are validated by its own shape. */
export const embeddedEnvShape = {
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
  /** The data folder, relative to the repository (or absolute). */
  ANALYTICA_DATA_DIR: z.string().min(1).default('.data/embedded'),
  /** The gateway. */
  PORT: port(4000),
  /**
   * Added to the ports of the services behind the gateway (user 4001 ... news-sources 4028),
   * so that a second copy (the end-to-end test) can run beside the first.
   */
  EMBEDDED_PORT_OFFSET: z.coerce.number().int().min(0).max(60_000).default(0),
  EMBEDDED_POSTGRES_PORT: port(54329),
  EMBEDDED_DYNAMODB_PORT: port(45670),
  EMBEDDED_SMTP_PORT: port(2525),
  EMBEDDED_MAIL_PORT: port(4025),
  /** The reference web app (examples/web-app), on an origin of its own as a frontend team's app is. */
  EMBEDDED_WEB_APP_PORT: port(5173),
  /**
   * Browser origins the gateway serves (the gateway's own variable, checked by it). Unset: the web
   * app's, http://127.0.0.1:<EMBEDDED_WEB_APP_PORT> and http://localhost:<EMBEDDED_WEB_APP_PORT>.
   */
  GATEWAY_CORS_ORIGINS: z.string().optional(),
  /**
   * How long access tokens live (the user service's variable, 60 to 3600 seconds; 900 unset). A
   * short one shows an app renewing its session without losing what it shows.
   */
  ACCESS_TOKEN_TTL_SECONDS: z.string().optional(),
};
export type EmbeddedEnv = z.infer<z.ZodObject<typeof embeddedEnvShape>>;

export const SERVICE_PORTS = {
  user: 4001,
  budget: 4002,
  market: 4003,
  news: 4004,
  payment: 4005,
  insight: 4006,
  'market-ingest': 4011,
  'market-feed': 4012,
  'bank-simulator': 4020,
  'payments-worker': 4021,
  'notifications-worker': 4022,
  'inference-worker': 4023,
  // Not the simulator's own 4026: that sits right beside the mail page (4025), where test/e2e/embedded.test.ts puts its SMTP port.
  'news-ingest': 4027,
  'news-sources': 4028,
  registry: 4030,
  'log-shipper': 4029,
} as const;

/**
 * The market feed's settings: its own environment shape (so FEED_* variables mean in npm start what
 * they mean everywhere, and a bad one stops the start naming it) over the embedded defaults. The
 * in-process event log takes a few dozen ticks a second comfortably, not one per open symbol, so
 * the defaults share 15 ticks/s among the open symbols and give the demo watchlist and the pairs
 * that never close a steady tick a second each: a weekend user sees BTC-USD move every second.
 */
export async function embeddedFeedEnv(source: Record<string, string | undefined>, dataDir: string, common: Record<string, string>, feedPort: number): Promise<MarketFeedEnv> {
  const { instruments } = await readReferenceFile();
  const steady = [...new Set([...DEMO_WATCHLIST, ...instruments.filter((i) => neverCloses(i.exchange)).map((i) => i.symbol)])];
  const defaults = {
    FEED_TICKS_PER_SECOND: '15',
    FEED_TICKS_PER_SYMBOL: '1',
    FEED_STEADY_SYMBOLS: steady.join(','),
    FEED_STATE_FILE: path.join(dataDir, 'market-feed.json'),
  };
  const given: Record<string, string | undefined> = Object.fromEntries(Object.entries(source).filter(([name]) => name.startsWith('FEED_')));
  // Set but empty takes an embedded default away: `FEED_TICKS_PER_SECOND= npm start` ticks every open symbol.
  for (const [name, value] of Object.entries(given)) if (value === '') given[name] = undefined;
  const env = parseMarketFeedEnv({ ...defaults, ...given, ...common, PORT: String(feedPort) });
  await feedUniverse(env); // unknown symbols in FEED_SYMBOLS or FEED_STEADY_SYMBOLS stop the start here
  return env;
}

export const parseEmbeddedEnv = (source: Record<string, string | undefined>) => parseEnv(embeddedEnvShape, source);
