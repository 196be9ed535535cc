import { ConfigError, dynamoEnv, kafkaEnv, parseEnv, serviceEnv, z } from '@analytica/config';
import { sentimentModelEnv } from '@analytica/news-subgraph/enrich';
import { objectsEnvProblems } from '@analytica/objects';

const SourceSchema = z.object({
  /** Named in metrics, logs, dead letters and the articles' sources: letters, digits, "-". */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be a lower-case name such as northgate'),
  /** The publication's name as readers see it; the name when absent. */
  title: z.string().min(1).max(100).optional(),
  format: z.enum(['rss', 'atom', 'json']),
  url: z.url({ protocol: /^https?$/ }),
  /** Poll interval when the source answers; failures back off from it. */
  intervalMs: z.number().int().min(100).max(86_400_000).default(60_000),
});
export type SourceConfig = z.infer<typeof SourceSchema>;

const sources = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of { name, format, url, intervalMs? }' });
      return z.NEVER;
    }
  })
  .pipe(z.array(SourceSchema).min(1))
  .refine((list) => new Set(list.map((s) => s.name)).size === list.length, { message: 'source names must be unique' });

export const newsIngestEnvShape = {
  ...serviceEnv(4027),
  ...kafkaEnv,
  ...dynamoEnv,
  /**
   * The sentiment model: the model registry's active `sentiment` version in the object store
   * (S3_BUCKET or OBJECTS_DIR, under MODEL_REGISTRY_PREFIX, asked every MODEL_REFRESH_MS); with
   * neither set, or while the registry has none active, the bundled one.
   */
  ...sentimentModelEnv,
  /** The sources to poll, as JSON: `[{ "name": "northgate", "format": "rss", "url": "http://…", "intervalMs": 30000 }]`. */
  NEWS_SOURCES: sources,
  /** A poll that has no answer by then counts as a failure. */
  NEWS_FETCH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** Longest wait between polls of a failing source (backoff doubles from its interval up to this). */
  NEWS_MAX_BACKOFF_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(86_400_000)
    .default(15 * 60_000),
  /** A feed larger than this is refused (and counts as a failure). */
  NEWS_MAX_FEED_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(50 * 1024 * 1024)
    .default(5 * 1024 * 1024),
  /**
   * Stories whose last stored text this process remembers per source, so that a feed read again in
   * full costs no DynamoDB call for what it already stored (about 200 bytes each); least recent forgotten first.
   */
  /**
   * Stories of one feed stored and published at a time (each story's revisions and copies still one
   * after another, oldest first): DynamoDB and Kafka round trips overlap instead of adding up.
   */
  NEWS_INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  NEWS_MEMORY_ITEMS: z.coerce.number().int().min(0).max(10_000_000).default(100_000),
};
export type NewsIngestEnv = z.infer<z.ZodObject<typeof newsIngestEnvShape>>;
export function parseNewsIngestEnv(source: Record<string, string | undefined>): NewsIngestEnv {
  const env = parseEnv(newsIngestEnvShape, source);
  const problems = objectsEnvProblems(env);
  if (problems.length) throw new ConfigError(problems);
  return env;
}
