import { dynamoEnv, parseEnv, redisEnv, serviceEnv, subgraphSigningEnv, tokenEnv, z } from '@analytica/config';

export const marketEnvShape = {
  ...serviceEnv(4003),
  ...tokenEnv,
  ...subgraphSigningEnv,
  ...redisEnv,
  // A brace in the prefix would become the key's hash tag and scatter one symbol's keys over slots.
  REDIS_KEY_PREFIX: redisEnv.REDIS_KEY_PREFIX.refine((v) => !/[{}]/.test(v), { message: 'must not contain { or }' }),
  ...dynamoEnv,
  /**
   * How long a quote read waits for a Redis connection that seems up before answering from stored
   * candles, marked stale (a Redis that is known to be down is not waited for at all).
   */
  QUOTE_READ_TIMEOUT_MS: z.coerce.number().int().min(10).max(10_000).default(1000),
};
export type MarketEnv = z.infer<z.ZodObject<typeof marketEnvShape>>;
export const parseMarketEnv = (source: Record<string, string | undefined>) => parseEnv(marketEnvShape, source);
