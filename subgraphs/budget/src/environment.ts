import { kafkaEnv, parseEnv, postgresEnv, serviceEnv, tokenEnv, z } from '@analytica/config';

export const budgetEnvShape = {
  ...serviceEnv(4002),
  ...tokenEnv,
  ...postgresEnv('budget'),
  ...kafkaEnv,
};
export type BudgetEnv = z.infer<z.ZodObject<typeof budgetEnvShape>>;
export const parseBudgetEnv = (source: Record<string, string | undefined>) => parseEnv(budgetEnvShape, source);
