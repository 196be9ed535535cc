import { kafkaEnv, list, parseEnv, postgresEnv, serviceEnv, url, z } from '@analytica/config';

export const notificationsEnvShape = {
  ...serviceEnv(4022),
  // Its own schema: recipients, preferences and the record of every email sent.
  ...postgresEnv('notifications'),
  ...kafkaEnv,
  /** The SMTP server: smtp://[user:pass@]host:port, or smtps:// for TLS from the start. */
  SMTP_URL: url(['smtp', 'smtps']).default('smtp://127.0.0.1:1025'),
  /** A connection, greeting or answer that takes longer than this fails the attempt. */
  SMTP_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  MAIL_FROM: z.string().min(3).default('Analytica <no-reply@analytica.dev>'),
  /** Keys the HMAC that signs unsubscribe links: whoever knows it can unsubscribe anyone. */
  UNSUBSCRIBE_SECRET: z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)'),
  /** Where this worker is reached from outside: unsubscribe links point here. */
  PUBLIC_URL: url(['http', 'https']).default('http://127.0.0.1:4022'),
  /** The app the emails link to (verification, payments). */
  APP_URL: url(['http', 'https']).default('http://127.0.0.1:4000'),
  /** One retry tier per delay (<topic>.retry.<delay>); after the last, the dead-letter topic. */
  NOTIFICATION_RETRY_DELAYS_MS: list
    .default(['1000', '10000', '60000'])
    .transform((values) => values.map(Number))
    .refine((values) => values.every((v) => Number.isInteger(v) && v >= 1 && v <= 3_600_000), { message: 'must be whole milliseconds from 1 to 3600000' }),
};
export type NotificationsEnv = z.infer<z.ZodObject<typeof notificationsEnvShape>>;
export const parseNotificationsEnv = (source: Record<string, string | undefined>) => parseEnv(notificationsEnvShape, source);
