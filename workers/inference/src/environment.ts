import { ConfigError, kafkaEnv, list, parseEnv, postgresEnv, serviceEnv, z } from '@analytica/config';
import { objectsEnv, objectsEnvProblems } from '@analytica/objects';
import { committedArtefacts } from './models/store.js';

export const inferenceEnvShape = {
  ...serviceEnv(4023),
  // Its own schema: what it remembers of each user's spending (for anomalies), outbox, processed events.
  ...postgresEnv('inference'),
  ...kafkaEnv,
  /**
   * The model registry's object store (S3_BUCKET with S3_ENDPOINT and keys, or OBJECTS_DIR): the
   * worker serves its active versions. With neither set, the folder MODEL_DIR is served as it is.
   */
  ...objectsEnv,
  /** Key prefix of the model registry in the object store. */
  MODEL_REGISTRY_PREFIX: z
    .string()
    .regex(/^([A-Za-z0-9._-]+\/)*$/, 'must be path parts (letters, digits, ".", "_", "-") each ending in "/"')
    .default('models/'),
  /** How often the registry is asked for a newly activated version (ms); 0: only at start. */
  MODEL_REFRESH_MS: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
  /** The folder of model artefacts: `<model>/ACTIVE` and `<model>/<version>/model.json`. The committed ones by default. */
  MODEL_DIR: z.string().min(1).default(committedArtefacts),
  /** A suggestion less likely than this is not published (the user sees nothing rather than a guess). */
  CATEGORY_MIN_CONFIDENCE: z.coerce.number().min(0).max(1).default(0.5),
  /** One retry tier per delay (<topic>.retry.<delay>); after the last, the dead-letter topic. */
  INFERENCE_RETRY_DELAYS_MS: list
    .default(['1000', '10000', '60000'])
    .transform((values) => values.map(Number))
    .refine((values) => values.every((v) => Number.isInteger(v) && v >= 1 && v <= 3_600_000), { message: 'must be whole milliseconds from 1 to 3600000' }),
};
export type InferenceEnv = z.infer<z.ZodObject<typeof inferenceEnvShape>>;
export function parseInferenceEnv(source: Record<string, string | undefined>): InferenceEnv {
  const env = parseEnv(inferenceEnvShape, source);
  const problems = objectsEnvProblems(env);
  if (problems.length) throw new ConfigError(problems);
  return env;
}
