import { parseEnv, serviceEnv, z } from '@analytica/config';

const share = z.coerce.number().min(0).max(1);
const millis = (fallback: number) => z.coerce.number().int().min(0).max(600_000).default(fallback);

/** The sources the simulator serves; each has its own format and path (GET /sources lists them). */
export const SOURCE_NAMES = ['northgate', 'harbour', 'ledger', 'slowwire', 'brokenwire'] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];
export const FAILURE_MODES = ['error', 'garbage', 'hang'] as const;
export type FailureMode = (typeof FAILURE_MODES)[number];

/** Comma-separated source names; empty means none. */
const sourceList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .refine((names) => names.every((n) => (SOURCE_NAMES as readonly string[]).includes(n)), { message: `must list some of ${SOURCE_NAMES.join(', ')} (or nothing)` })
  .transform((names) => names as SourceName[]);

export const newsSourcesEnvShape = {
  ...serviceEnv(4026),
  /** Seed of the stories, their sources, updates and malformed items: the same seed, the same news. */
  NEWS_SEED: z.coerce.number().int().default(1),
  /** A new seeded event (story, update or malformed item) this often; 0 only on POST /sandbox/step. */
  NEWS_INTERVAL_MS: millis(10_000),
  /** Stories already out when the simulator starts. */
  NEWS_INITIAL_STORIES: z.coerce.number().int().min(0).max(1000).default(12),
  /** Items each feed lists (the newest first). */
  NEWS_FEED_SIZE: z.coerce.number().int().min(1).max(500).default(30),
  /** Share of new stories that a second source carries too (half under the same canonical URL, half syndicated: other URL, same text). */
  NEWS_DUPLICATE_SHARE: share.default(0.3),
  /** Share of seeded events that update an earlier story instead of adding one. */
  NEWS_UPDATE_SHARE: share.default(0.15),
  /** Share of new items a source emits malformed (no title, no link, or a date that is not one). */
  NEWS_MALFORMED_SHARE: share.default(0.05),
  /** Sources that answer after NEWS_SLOW_MS. */
  NEWS_SLOW_SOURCES: sourceList.default(['slowwire']),
  NEWS_SLOW_MS: millis(4_000),
  /** Sources that fail, as NEWS_FAILURE_MODE says: `error` (503), `garbage` (200 with a body that is no feed), `hang` (no answer for NEWS_HANG_MS). */
  NEWS_FAILING_SOURCES: sourceList.default(['brokenwire']),
  NEWS_FAILURE_MODE: z.enum(FAILURE_MODES).default('garbage'),
  NEWS_HANG_MS: millis(60_000),
};
export type NewsSourcesEnv = z.infer<z.ZodObject<typeof newsSourcesEnvShape>>;
export const parseNewsSourcesEnv = (source: Record<string, string | undefined>) => parseEnv(newsSourcesEnvShape, source);
