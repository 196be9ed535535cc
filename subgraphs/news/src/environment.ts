import { bool, dynamoEnv, kafkaEnv, parseEnv, serviceEnv, subgraphSigningEnv, tokenEnv, z } from '@analytica/config';

export const newsEnvShape = {
  ...serviceEnv(4004),
  ...tokenEnv,
  ...subgraphSigningEnv,
  ...dynamoEnv,
  ...kafkaEnv,
  /**
   * Consume `news.published.v1` (from news-ingest) into the articles and announce each on
   * `Quote.<symbol>` in Redis. Off until the launchers run news-ingest.
   */
  NEWS_CONSUME_PUBLISHED: bool(false),
  NEWS_CONSUMER_GROUP: z
    .string()
    .regex(/^[\w.-]+$/, 'must be letters, digits, ".", "_" or "-"')
    .default('news'),
};
export type NewsEnv = z.infer<z.ZodObject<typeof newsEnvShape>>;
export const parseNewsEnv = (source: Record<string, string | undefined>) => parseEnv(newsEnvShape, source);
