import { kafkaEnv, parseEnv, pem, postgresEnv, serviceEnv, subgraphSigningEnv, tokenEnv, trustProxy, z } from '@analytica/config';
import { monitoringEnvShape } from './operations/monitoring.js';
import { operationsEnvShape } from './operations/environment.js';
import { tracesEnvShape } from './operations/traces.js';

const PEM_BLOCK = /-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g;
const count = (fallback: number, min = 1, max = 1_000_000) => z.coerce.number().int().min(min).max(max).default(fallback);

export const userEnvShape = {
  ...serviceEnv(4001),
  ...tokenEnv,
  ...subgraphSigningEnv,
  ...postgresEnv('users'),
  ...kafkaEnv,
  // Alerts (Prometheus), gateways and usage (the schema registry) for the admin console (issue 16).
  ...monitoringEnvShape,
  // The central log store and the services whose /ready serviceHealth reports (issue 16).
  ...operationsEnvShape,
  // One request's trace from Zipkin for the admin console (issue 16).
  ...tracesEnvShape,
  /** PEM private key that signs access tokens; its public half is served as JWKS. */
  JWT_PRIVATE_KEY: pem,
  /**
   * Public keys (PEM blocks one after the other) still published in the JWKS after a rotation, so
   * that tokens signed with the previous key keep verifying until they expire.
   */
  JWT_PREVIOUS_PUBLIC_KEYS: z
    .string()
    .default('')
    .transform((v) => v.replace(/\\n/g, '\n').match(PEM_BLOCK) ?? [])
    .refine((keys) => keys.every((k) => k.includes('PUBLIC KEY') || k.includes('PRIVATE KEY')), { message: 'must be PEM-encoded keys' }),
  ACCESS_TOKEN_TTL_SECONDS: count(900, 60, 3600),
  /** A refresh token not used for this long expires; each use gives a new one with a new lifetime. */
  REFRESH_TOKEN_TTL_SECONDS: count(14 * 86_400, 300, 90 * 86_400),
  EMAIL_VERIFICATION_TTL_SECONDS: count(48 * 3600, 300, 30 * 86_400),
  /** The issuer name authenticator apps show next to the account. */
  TOTP_ISSUER: z.string().min(1).default('Analytica'),
  /** Wrong passwords (or codes) for one account before it is locked out. */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: count(5),
  /** Wrong passwords from one address, over all accounts, before it is locked out. */
  LOGIN_MAX_FAILURES_PER_IP: count(50),
  /** Window in which failures are counted. */
  LOGIN_FAILURE_WINDOW_SECONDS: count(15 * 60),
  /** The first lockout; each further one within a day doubles it, up to the maximum. */
  LOGIN_LOCKOUT_SECONDS: count(60),
  LOGIN_LOCKOUT_MAX_SECONDS: count(24 * 3600),
  REGISTRATIONS_PER_IP_PER_HOUR: count(20),
  /** requestPasswordReset per email address (known or not) per hour, and per caller address per hour. */
  PASSWORD_RESETS_PER_EMAIL_PER_HOUR: count(3),
  PASSWORD_RESETS_PER_IP_PER_HOUR: count(30),
  /** How long a password reset link works. */
  PASSWORD_RESET_TTL_SECONDS: count(30 * 60, 60, 24 * 3600),
  /**
   * Which proxies' X-Forwarded-For to believe for the caller's address (express "trust proxy"):
   * the gateway, on this host or on the private network of the containers. Were it not believed,
   * every sign-in would seem to come from the gateway, and the per-address lockout would lock out
   * everyone at once.
   */
  TRUST_PROXY: trustProxy('loopback, uniquelocal'),
  /** First administrator, created at start if no account has this email (an operator's bootstrap). */
  ADMIN_EMAIL: z.email().optional(),
  ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
};
export type UserEnv = z.infer<z.ZodObject<typeof userEnvShape>>;
export const parseUserEnv = (source: Record<string, string | undefined>) => parseEnv(userEnvShape, source);
