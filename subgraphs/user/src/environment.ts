import { kafkaEnv, parseEnv, pem, postgresEnv, serviceEnv, tokenEnv, z } from '@analytica/config';

export const userEnvShape = {
  ...serviceEnv(4001),
  ...tokenEnv,
  ...postgresEnv('users'),
  ...kafkaEnv,
  /** PEM private key that signs access tokens; its public half is served as JWKS. */
  JWT_PRIVATE_KEY: pem,
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
};
export type UserEnv = z.infer<z.ZodObject<typeof userEnvShape>>;
export const parseUserEnv = (source: Record<string, string | undefined>) => parseEnv(userEnvShape, source);
