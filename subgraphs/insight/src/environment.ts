import { kafkaEnv, parseEnv, postgresEnv, serviceEnv, subgraphSigningEnv, tokenEnv, z } from '@analytica/config';

export const insightEnvShape = {
  ...serviceEnv(4006),
  ...tokenEnv,
  ...subgraphSigningEnv,
  ...postgresEnv('insight'),
  ...kafkaEnv,
};
export type InsightEnv = z.infer<z.ZodObject<typeof insightEnvShape>>;
export const parseInsightEnv = (source: Record<string, string | undefined>) => parseEnv(insightEnvShape, source);
