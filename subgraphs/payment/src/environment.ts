import { kafkaEnv, parseEnv, postgresEnv, serviceEnv, subgraphSigningEnv, tokenEnv, url, z } from '@analytica/config';

const count = (fallback: number, min = 1, max = 1_000_000) => z.coerce.number().int().min(min).max(max).default(fallback);
const minor = (fallback: number) => z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(fallback);

/** Variables of the bank provider, shared with the payments worker. */
export const bankEnv = {
  /** The open-banking provider (the bank simulator locally). */
  BANK_API_URL: url(['http', 'https']).default('http://127.0.0.1:4020'),
  /** A bank call that has not answered after this long counts as a passing failure. */
  BANK_TIMEOUT_MS: count(5000, 50, 120_000),
};

export const paymentEnvShape = {
  ...serviceEnv(4005),
  ...tokenEnv,
  ...subgraphSigningEnv,
  ...postgresEnv('payment'),
  ...kafkaEnv,
  ...bankEnv,
  /**
   * HMAC key for bank account fingerprints and one-time codes. Only the fingerprint and the last
   * four digits are stored, so this key is what stands between a database dump and a guessable
   * list of IBANs (or six-digit codes).
   */
  BANK_FINGERPRINT_SECRET: z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)'),
  /** Largest single payment, in minor units of its currency. */
  PAYMENT_MAX_AMOUNT_MINOR: minor(1_000_000),
  /** Most a user may send in one currency over any 24 hours, in minor units. */
  PAYMENT_DAILY_LIMIT_MINOR: minor(2_500_000),
  /** Velocity check: at most this many payments per user within PAYMENT_VELOCITY_WINDOW_SECONDS. */
  PAYMENT_VELOCITY_MAX: count(20),
  PAYMENT_VELOCITY_WINDOW_SECONDS: count(600, 1, 86_400),
  /** A payment of at least this much to a payee the user never paid waits for a code sent by email. */
  PAYMENT_REVIEW_THRESHOLD_MINOR: minor(100_000),
  /** Lifetime of a one-time code (bank account verification, payment confirmation). */
  ONE_TIME_CODE_TTL_SECONDS: count(900, 30, 86_400),
};
export type PaymentEnv = z.infer<z.ZodObject<typeof paymentEnvShape>>;
export const parsePaymentEnv = (source: Record<string, string | undefined>) => parseEnv(paymentEnvShape, source);
