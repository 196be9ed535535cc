import { kafkaEnv, parseEnv, pem, postgresEnv, serviceEnv, tokenEnv, z } from '@analytica/config';

export const userEnvShape = {
  ...serviceEnv(4001),
  ...tokenEnv,
  ...postgresEnv('users'),
  ...kafkaEnv,
  /** PEM private key that signs access tokens; its public half is served as JWKS. */
  JWT_PRIVATE_KEY: pem,
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
  /** First administrator, created at start if no account has this email (an operator's bootstrap). */
  ADMIN_EMAIL: z.email().optional(),
  ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
};
export type UserEnv = z.infer<z.ZodObject<typeof userEnvShape>>;
export const parseUserEnv = (source: Record<string, string | undefined>) => parseEnv(userEnvShape, source);
