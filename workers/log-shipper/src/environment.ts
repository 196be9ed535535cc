import { identifier, parseEnv, serviceEnv, url, z } from '@analytica/config';

export const logShipperEnvShape = {
  ...serviceEnv(4029),
  /** The folder whose `<name>.log` files are shipped (stack mode: each service's output; npm start: one file). */
  LOG_SHIPPER_DIR: z.string().min(1, 'must name the folder that holds the services .log files'),
  /** The central log store (docs/OBSERVABILITY.md): a PostgreSQL database ... */
  LOG_STORE_URL: url(['postgres', 'postgresql']).default('postgres://postgres@127.0.0.1:5432/postgres'),
  /** ... and the schema of its partitioned `entries` table. */
  LOG_STORE_SCHEMA: identifier.default('logs'),
  /** Days of logs kept: a day's partition is dropped once it ended this many days ago. */
  LOG_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
  /**
   * How often the files are looked at for new lines, new files and rotation. Each look costs a few
   * system calls per file whether or not anything was written; once a second keeps lines a second
   * from the console and the shipper's share of the cores small (issue 16).
   */
  LOG_SHIPPER_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  /** Most lines in one insert (one transaction, with the files' new positions). */
  LOG_SHIPPER_BATCH_LINES: z.coerce.number().int().min(1).max(50_000).default(2000),
  /** Longest wait between two attempts while the store cannot be written (the wait doubles from 200 ms). */
  LOG_SHIPPER_RETRY_MAX_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
};
export type LogShipperEnv = z.infer<z.ZodObject<typeof logShipperEnvShape>>;
export const parseLogShipperEnv = (source: Record<string, string | undefined>) => parseEnv(logShipperEnvShape, source);
