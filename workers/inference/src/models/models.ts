import type { Logger } from '@analytica/logger';
import { loadAnomalyDetector, type AnomalyDetector } from './anomaly.js';
import { loadCategoriser, type Categoriser } from './categoriser.js';
import type { ModelStore } from './store.js';

export interface Models {
  categoriser: Categoriser;
  anomaly: AnomalyDetector;
}

async function readActive(store: ModelStore, model: string) {
  const version = await store.activeVersion(model);
  if (!version) throw new Error(`no active ${model} model in ${store.description}`);
  let artefact: unknown;
  try {
    artefact = JSON.parse((await store.read(model, version, 'model.json')).toString('utf8'));
  } catch (error) {
    throw new Error(`${model} ${version} in ${store.description} cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { version, artefact };
}

/** Loads the active version of each model; a missing or corrupt artefact rejects (nothing is half-loaded). */
export async function loadModels(store: ModelStore, logger: Logger): Promise<Models> {
  const c = await readActive(store, 'categoriser');
  const a = await readActive(store, 'anomaly');
  const models = { categoriser: loadCategoriser(c.version, c.artefact), anomaly: loadAnomalyDetector(a.version, a.artefact) };
  logger.info({ store: store.description, categoriser: c.version, anomaly: a.version }, 'models loaded');
  return models;
}
