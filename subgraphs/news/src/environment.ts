import { dynamoEnv, parseEnv, serviceEnv, tokenEnv, z } from '@analytica/config';

export const newsEnvShape = {
  ...serviceEnv(4004),
  ...tokenEnv,
  ...dynamoEnv,
};
export type NewsEnv = z.infer<z.ZodObject<typeof newsEnvShape>>;
export const parseNewsEnv = (source: Record<string, string | undefined>) => parseEnv(newsEnvShape, source);
