import { z } from '@analytica/config';
import type { Logger } from '@analytica/logger';
import { objectsConfigured, objectStoreFromEnv, objectsEnv, type ObjectsEnv, type ObjectStore } from '@analytica/objects';
import { loadSentimentModel, type SentimentArtefact, type SentimentModel } from './sentiment.js';

/** The model's name in the registry (workers/inference/src/registry, README "Models"). */
export const SENTIMENT_MODEL = 'sentiment';

/**
 * Where news-ingest and the news subgraph take the sentiment model from: the model registry in
 * the object store (S3_BUCKET or OBJECTS_DIR), as the inference worker does; with neither set, or
 * while the registry has no active version, the model bundled in data/sentiment-model.json.
 */
export const sentimentModelEnv = {
  ...objectsEnv,
  /** Key prefix of the model registry in the object store (as the inference worker's). */
  MODEL_REGISTRY_PREFIX: z
    .string()
    .regex(/^([A-Za-z0-9._-]+\/)*$/, 'must be path parts (letters, digits, ".", "_", "-") each ending in "/"')
    .default('models/'),
  /** How often the registry is asked for a newly activated sentiment version (ms); 0: only at start. */
  MODEL_REFRESH_MS: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
};
export type SentimentModelEnv = z.infer<z.ZodObject<typeof sentimentModelEnv>>;

export interface SentimentModelSource {
  /** The model to score with now. */
  current(): SentimentModel;
  /** Asks the registry now (otherwise every MODEL_REFRESH_MS); resolves true when the model changed. */
  refresh(): Promise<boolean>;
  /** Where the model comes from, for logs. */
  readonly description: string;
  stop(): Promise<void>;
}

/**
 * Reads the registry as the inference worker's ModelStore does: `<prefix>sentiment/registry.json`
 * names the active version, `<prefix>sentiment/<version>/model.json` is its artefact (published,
 * hash-checked and loaded by `npm run ml:publish` / `ml:activate`). Returns null when none is active.
 */
export async function readActiveSentimentModel(objects: ObjectStore, prefix: string): Promise<SentimentModel | null> {
  const state = await objects.get(`${prefix}${SENTIMENT_MODEL}/registry.json`);
  const active = state ? (JSON.parse(state.toString('utf8')) as { active?: string | null }).active : null;
  if (!active) return null;
  const bytes = await objects.get(`${prefix}${SENTIMENT_MODEL}/${active}/model.json`);
  if (!bytes) throw new Error(`sentiment ${active} is active but ${prefix}${SENTIMENT_MODEL}/${active}/model.json is missing in ${objects.description}`);
  const model = loadSentimentModel(JSON.parse(bytes.toString('utf8')) as SentimentArtefact);
  if (model.version !== active) throw new Error(`sentiment ${active} is active but its model.json is version ${model.version}`);
  return model;
}

/**
 * Follows the registry's active sentiment version: read at start and every `refreshMs`; a switch
 * (activation or rollback) is logged and passed to `onChange`. A version that cannot be read or
 * loaded leaves the current model in place (logged at error) and is tried again at the next poll;
 * an unreachable registry at start serves the bundled model until it answers.
 */
export async function followSentimentModel(options: {
  env: Partial<SentimentModelEnv>;
  logger: Logger;
  /** A store to read instead of the one the environment names (tests); not closed here. */
  objects?: ObjectStore;
  onChange?: (model: SentimentModel, previous: SentimentModel) => void | Promise<void>;
}): Promise<SentimentModelSource> {
  const { env, logger } = options;
  const bundled = loadSentimentModel();
  const own = !options.objects && objectsConfigured(env as Partial<ObjectsEnv>) ? objectStoreFromEnv(env as Partial<ObjectsEnv>) : undefined;
  const objects = options.objects ?? own;
  const prefix = env.MODEL_REGISTRY_PREFIX ?? 'models/';
  let model = bundled;
  if (!objects) return { current: () => model, refresh: async () => false, description: 'bundled', stop: async () => undefined };

  let running: Promise<boolean> | null = null;
  async function poll(): Promise<boolean> {
    let next: SentimentModel;
    try {
      next = (await readActiveSentimentModel(objects!, prefix)) ?? bundled;
    } catch (error) {
      logger.error({ err: error, serving: model.version }, 'sentiment model: the active version cannot be loaded, keeping the current one');
      return false;
    }
    if (next.version === model.version) return false;
    const previous = model;
    model = next;
    logger.info({ from: previous.version, to: next.version }, 'sentiment model switched');
    await options.onChange?.(next, previous);
    return true;
  }
  const refresh = () =>
    (running ??= poll().finally(() => {
      running = null;
    }));
  await refresh();
  const timer = (env.MODEL_REFRESH_MS ?? 5_000) > 0 ? setInterval(() => void refresh().catch(() => undefined), env.MODEL_REFRESH_MS ?? 5_000) : undefined;
  timer?.unref();
  return {
    current: () => model,
    refresh,
    description: `registry ${objects.description} (${prefix})`,
    async stop() {
      if (timer) clearInterval(timer);
      await running?.catch(() => undefined);
      own?.close();
    },
  };
}
