import { logLevel, parseEnv, port, z } from '@analytica/config';

export const smtpCatcherEnvShape = {
  LOG_LEVEL: logLevel,
  HOST: z.string().default('127.0.0.1'),
  /** Where mail is accepted (SMTP, no TLS, any or no login). */
  SMTP_PORT: port(1025),
  /** Where the caught mail is shown: an HTML page on /, JSON on /messages. */
  PORT: port(8025),
  /** The private listener of GET /metrics: PORT + 5000 by default (0 when PORT is 0), never PORT. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  METRICS_HOST: z.string().default('127.0.0.1'),
  /** Messages kept in memory; the oldest go first. */
  MAILBOX_LIMIT: z.coerce.number().int().min(1).max(100_000).default(2000),
};
export type SmtpCatcherEnv = z.infer<z.ZodObject<typeof smtpCatcherEnvShape>>;
export const parseSmtpCatcherEnv = (source: Record<string, string | undefined>) => parseEnv(smtpCatcherEnvShape, source);
