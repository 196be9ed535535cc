import { bool, ConfigError, dynamoEnv, kafkaEnv, parseEnv, serviceEnv, subgraphSigningEnv, tokenEnv, z } from '@analytica/config';
import { objectsEnvProblems } from '@analytica/objects';
import { sentimentModelEnv } from './enrich/model-source.js';

export const newsEnvShape = {
  ...serviceEnv(4004),
  ...tokenEnv,
  ...subgraphSigningEnv,
  ...dynamoEnv,
  ...kafkaEnv,
  /**
   * The sentiment model that scores the bundled articles at seeding and re-scores every article when
   * the registry activates another version: the model registry in S3_BUCKET or OBJECTS_DIR (under
   * MODEL_REGISTRY_PREFIX, asked every MODEL_REFRESH_MS), else the bundled model.
   */
  ...sentimentModelEnv,
  /**
   * Consume `news.published.v1` (from news-ingest) into the articles and announce each on
   * `Quote.<symbol>` in Redis. Off until the launchers run news-ingest.
   */
  NEWS_CONSUME_PUBLISHED: bool(false),
  /**
   * The region this deployment serves (upper-case letters, e.g. EU, US, APAC): the first level of the
   * sharding (region, then user, then content type). Interaction events carry it, their Kafka key
   * and the interaction log's partition key are `<region>#<userId>`. Letters only, so it never holds
   * the `#` that separates the key's parts.
   */
  NEWS_REGION: z
    .string()
    .regex(/^[A-Z]{2,16}$/, 'must be 2 to 16 upper-case letters, such as EU or US')
    .default('EU'),
  /**
   * How long the newest articles of each list (and articles' topics) are shared between readers'
   * myFeed before they are read again; 0 reads them for every request. The page shown is always
   * read fresh, so a hidden article leaves at once whatever this is.
   */
  NEWS_FEED_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
  NEWS_CONSUMER_GROUP: z
    .string()
    .regex(/^[\w.-]+$/, 'must be letters, digits, ".", "_" or "-"')
    .default('news'),
};
export type NewsEnv = z.infer<z.ZodObject<typeof newsEnvShape>>;
export function parseNewsEnv(source: Record<string, string | undefined>): NewsEnv {
  const env = parseEnv(newsEnvShape, source);
  const problems = objectsEnvProblems(env);
  if (problems.length) throw new ConfigError(problems);
  return env;
}
