import { ConfigError, kafkaEnv, list, parseEnv, postgresEnv, redisEnv, serviceEnv, z } from '@analytica/config';
import { bankEnv } from '@analytica/payment-subgraph/domain';

/** The steps of a payment at which PAYMENTS_CRASH_AT can kill the worker. */
export const CRASH_POINTS = ['before-bank', 'after-bank', 'before-commit'] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

const millis = (fallback: number, min = 10) => z.coerce.number().int().min(min).max(86_400_000).default(fallback);

export const paymentsWorkerEnvShape = {
  ...serviceEnv(4021),
  // The payment domain's own schema: the worker moves payments through their states beside the service.
  ...postgresEnv('payment'),
  ...kafkaEnv,
  // Status changes are published on <REDIS_KEY_PREFIX>Payment.<id> for Subscription.paymentStatus.
  ...redisEnv,
  ...bankEnv,
  /** Consumer group of the payments workers; instances of one group share the partitions. */
  PAYMENTS_GROUP_ID: z
    .string()
    .regex(/^[\w.-]+$/, 'must be letters, digits, ".", "_" or "-"')
    .default('payments-worker'),
  /** One retry tier per delay (payments.requested.v1.retry.<delay>); after the last, the dead-letter topic. */
  PAYMENT_RETRY_DELAYS_MS: list
    .default(['1000', '10000', '60000'])
    .transform((values) => values.map(Number))
    .refine((values) => values.every((v) => Number.isInteger(v) && v >= 1 && v <= 3_600_000), { message: 'must be whole milliseconds from 1 to 3600000' }),
  /** How often the reconciler looks for payments left in PROCESSING. */
  RECONCILE_INTERVAL_MS: millis(10_000),
  /** A payment in PROCESSING untouched for this long is asked about at the bank and settled. */
  RECONCILE_AFTER_MS: millis(120_000, 100),
  /**
   * Test hook (the fault suite, test/faults/payments.test.ts): the worker kills itself with
   * SIGKILL at this step of the first payment that reaches it. Refused at start-up in production.
   */
  PAYMENTS_CRASH_AT: z.enum(CRASH_POINTS).optional(),
};
export type PaymentsWorkerEnv = z.infer<z.ZodObject<typeof paymentsWorkerEnvShape>>;
export function parsePaymentsWorkerEnv(source: Record<string, string | undefined>): PaymentsWorkerEnv {
  const env = parseEnv(paymentsWorkerEnvShape, source);
  if (env.PAYMENTS_CRASH_AT && env.NODE_ENV === 'production') {
    throw new ConfigError([`PAYMENTS_CRASH_AT is "${env.PAYMENTS_CRASH_AT}": a test hook that kills the worker, never honoured with NODE_ENV=production`]);
  }
  return env;
}
