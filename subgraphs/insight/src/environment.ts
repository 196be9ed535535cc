import { kafkaEnv, parseEnv, postgresEnv, serviceEnv, subgraphSigningEnv, tokenEnv, z } from '@analytica/config';

export const insightEnvShape = {
  ...serviceEnv(4006),
  ...tokenEnv,
  ...subgraphSigningEnv,
  ...postgresEnv('insight'),
  ...kafkaEnv,
  /**
   * How often finished weeks and months are looked for to send their digests (one per user and
   * period, whichever replica finds it first); 0 turns it off.
   */
  DIGEST_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(600_000),
  /**
   * How often insight looks whether the UTC day has changed, and if so recomputes every current
   * budget forecast (a projection moves with the days left, not only with transactions); 0 turns it off.
   */
  FORECAST_DAY_CHECK_MS: z.coerce.number().int().min(0).max(3_600_000).default(300_000),
};
export type InsightEnv = z.infer<z.ZodObject<typeof insightEnvShape>>;
export const parseInsightEnv = (source: Record<string, string | undefined>) => parseEnv(insightEnvShape, source);
