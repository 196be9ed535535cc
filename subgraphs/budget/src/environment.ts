import { fileURLToPath } from 'node:url';
import { kafkaEnv, parseEnv, postgresEnv, serviceEnv, subgraphSigningEnv, tokenEnv, z } from '@analytica/config';

/** The sample of daily ECB-style rates shipped with the service. */
export const SAMPLE_RATES_FILE = fileURLToPath(new URL('../data/exchange-rates.csv', import.meta.url));

export const budgetEnvShape = {
  ...serviceEnv(4002),
  ...tokenEnv,
  ...subgraphSigningEnv,
  ...postgresEnv('budget'),
  ...kafkaEnv,
  /** A rate file (date,base,quote,rate) loaded at start, replacing rates of the same day and pair; empty: none. */
  EXCHANGE_RATES_FILE: z.string().default(SAMPLE_RATES_FILE),
  /** How often due auto-posting schedules are posted; 0 turns the poster off (another replica runs it). */
  SCHEDULE_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
};
export type BudgetEnv = z.infer<z.ZodObject<typeof budgetEnvShape>>;
export const parseBudgetEnv = (source: Record<string, string | undefined>) => parseEnv(budgetEnvShape, source);
