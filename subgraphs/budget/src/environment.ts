import { fileURLToPath } from 'node:url';
import { ConfigError, kafkaEnv, parseEnv, postgresEnv, serviceEnv, subgraphSigningEnv, tokenEnv, url, z } from '@analytica/config';
import { objectsEnv, objectsEnvProblems } from '@analytica/objects';

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
  /** Where uploaded statement files are kept (S3_BUCKET or OBJECTS_DIR); neither: no uploads (importTransactions still works). */
  ...objectsEnv,
  /** The gateway's public origin, as clients reach it: upload URLs point there. */
  PUBLIC_API_URL: url(['http', 'https']).default('http://127.0.0.1:4000'),
  /** The largest statement file an upload takes, in bytes (50 MiB by default). */
  STATEMENT_UPLOAD_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(50 * 1024 * 1024),
  /** How long an upload URL takes its file. */
  STATEMENT_UPLOAD_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900),
  /**
   * How long a statement file that is not booked (never imported, failed, or only dry-run) is kept
   * after its upload last changed; then the upload expires and the file is deleted. A booked file is
   * deleted at once.
   */
  STATEMENT_UPLOAD_RETENTION_HOURS: z.coerce.number().int().min(1).max(720).default(24),
};
export type BudgetEnv = z.infer<z.ZodObject<typeof budgetEnvShape>>;
export function parseBudgetEnv(source: Record<string, string | undefined>): BudgetEnv {
  const env = parseEnv(budgetEnvShape, source);
  const problems = objectsEnvProblems(env);
  if (problems.length) throw new ConfigError(problems);
  return env;
}
