import { kafkaEnv, parseEnv, postgresEnv, serviceEnv, tokenEnv, z } from '@analytica/config';

export const paymentEnvShape = {
  ...serviceEnv(4005),
  ...tokenEnv,
  ...postgresEnv('payment'),
  ...kafkaEnv,
  /**
   * HMAC key for bank account fingerprints. Only the fingerprint and the last four digits are
   * stored, so this key is what stands between a database dump and a guessable list of IBANs.
   */
  BANK_FINGERPRINT_SECRET: z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)'),
};
export type PaymentEnv = z.infer<z.ZodObject<typeof paymentEnvShape>>;
export const parsePaymentEnv = (source: Record<string, string | undefined>) => parseEnv(paymentEnvShape, source);
