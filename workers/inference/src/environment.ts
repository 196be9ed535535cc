import { kafkaEnv, list, parseEnv, postgresEnv, serviceEnv, z } from '@analytica/config';
import { committedArtefacts } from './models/store.js';

export const inferenceEnvShape = {
  ...serviceEnv(4023),
  // Its own schema: what it remembers of each user's spending (for anomalies), outbox, processed events.
  ...postgresEnv('inference'),
  ...kafkaEnv,
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
export const parseInferenceEnv = (source: Record<string, string | undefined>) => parseEnv(inferenceEnvShape, source);
