import { dynamoEnv, kafkaEnv, parseEnv, redisEnv, serviceEnv, z } from '@analytica/config';

export const marketIngestEnvShape = {
  ...serviceEnv(4011),
  ...kafkaEnv,
  ...redisEnv,
  // A brace in the prefix would become the key's hash tag and scatter one symbol's keys over slots.
  REDIS_KEY_PREFIX: redisEnv.REDIS_KEY_PREFIX.refine((v) => !/[{}]/.test(v), { message: 'must not contain { or }' }),
  ...dynamoEnv,
  /** Consumer group of the ingest workers; instances of one group share the topic's partitions. */
  INGEST_GROUP_ID: z
    .string()
    .regex(/^[\w.-]+$/, 'must be letters, digits, ".", "_" or "-"')
    .default('market-ingest'),
  /**
   * How often candles are written to DynamoDB and the Kafka offsets committed after them. Quotes
   * go to Redis with every batch. Each flush writes every candle that moved (up to four per
   * symbol), whatever the tick rate; a longer interval means fewer writes (each conditional put
   * costs about half a millisecond of CPU in the AWS SDK, and a write unit in DynamoDB) and a
   * longer replay after a crash (which changes nothing: candles and quotes ignore ticks they hold).
   */
  INGEST_FLUSH_MS: z.coerce.number().int().min(50).max(60_000).default(10_000),
  /** Partitions processed at the same time by one worker. */
  INGEST_PARTITIONS_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(3),
  /** Longest a fetch waits for more ticks (up to 64 KB): fewer batches when the feed is quiet, at most this much later. */
  INGEST_FETCH_WAIT_MS: z.coerce.number().int().min(0).max(5000).default(20),
};
export type MarketIngestEnv = z.infer<z.ZodObject<typeof marketIngestEnvShape>>;
export const parseMarketIngestEnv = (source: Record<string, string | undefined>) => parseEnv(marketIngestEnvShape, source);
