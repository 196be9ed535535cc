import { list, parseEnv, serviceEnv, z } from '@analytica/config';

const share = z.coerce.number().min(0).max(1);
const millis = (fallback: number) => z.coerce.number().int().min(0).max(600_000).default(fallback);

export const FAILURE_KINDS = ['unavailable', 'error-after-apply', 'timeout'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

export const bankEnvShape = {
  ...serviceEnv(4020),
  /** Half of all calls answer faster than this. */
  BANK_LATENCY_MEDIAN_MS: millis(40),
  /** 99% of calls answer faster than this (log-normal between the two; raised to the median if lower). */
  BANK_LATENCY_P99_MS: millis(400),
  /** Share of payment calls (submission and status) that fail in a way a retry can fix. */
  BANK_FAILURE_RATE: share.default(0),
  /**
   * How those failures look, picked evenly: `unavailable` (503, nothing done), `error-after-apply`
   * (the payment is booked, then a 500), `timeout` (booked, then no answer for BANK_HANG_MS).
   */
  BANK_FAILURE_KINDS: list
    .default([...FAILURE_KINDS])
    .refine((kinds) => kinds.every((k) => (FAILURE_KINDS as readonly string[]).includes(k)), { message: `must list some of ${FAILURE_KINDS.join(', ')}` })
    .transform((kinds) => kinds as FailureKind[]),
  /** How long a `timeout` failure holds the connection before it answers (after the client gave up). */
  BANK_HANG_MS: millis(30_000),
  /** Opening balance of a new customer's current account, in minor units. */
  BANK_DEFAULT_BALANCE_MINOR: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(1_000_000),
  /** A JSON file that keeps the bank's books across restarts (the embedded mode sets one); unset keeps them in memory only. */
  BANK_STATE_FILE: z.string().min(1).optional(),
  /** Seed for latency and failures, so that a run can be repeated; unset means random. */
  BANK_RANDOM_SEED: z.coerce.number().int().optional(),
};
export type BankEnv = z.infer<z.ZodObject<typeof bankEnvShape>>;
export const parseBankEnv = (source: Record<string, string | undefined>) => parseEnv(bankEnvShape, source);
