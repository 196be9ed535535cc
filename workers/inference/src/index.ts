import client from 'prom-client';
import { busFromEnv, OutboxMessageSchema, ProcessedEventSchema, runConsumer, startConsumerWithRetries, startOutboxRelay, type Consumer, type EventBus } from '@analytica/events';
import { createLogger, type Logger } from '@analytica/logger';
import { openDatabase, connectionFromEnv } from '@analytica/postgres';
import { objectsConfigured, objectStoreFromEnv, type ObjectStore } from '@analytica/objects';
import { createHttpService, lifecycle } from '@analytica/service';
import { parseInferenceEnv, type InferenceEnv } from './environment.js';
import { inferRecorded, inferUpdated, type InferenceSettings, type Outcome } from './inference.js';
import { migrations } from './migrations.js';
import { loadModels, type Models } from './models/models.js';
import { predictRoutes } from './predict.js';
import { committedArtefacts, folderModelStore, type ModelStore } from './models/store.js';
import { modelRegistry, seedRegistry, type ModelRegistry } from './registry/registry.js';

export { inferenceEnvShape, parseInferenceEnv, type InferenceEnv } from './environment.js';
export { folderModelStore, committedArtefacts, type ModelStore } from './models/store.js';
export { modelRegistry, seedRegistry, RegistryError, HELD_OUT, MODELS, type ModelRegistry, type Manifest, type RegistryState, type AuditEntry } from './registry/registry.js';

/** The model registry the environment names (S3_BUCKET or OBJECTS_DIR, under MODEL_REGISTRY_PREFIX), or null when it names none. */
export function registryFromEnv(env: InferenceEnv, options: { logger?: Logger; actor?: string } = {}): { registry: ModelRegistry; objects: ObjectStore } | null {
  if (!objectsConfigured(env)) return null;
  const objects = objectStoreFromEnv(env);
  return { objects, registry: modelRegistry(objects, { prefix: env.MODEL_REGISTRY_PREFIX, ...options }) };
}

export interface Dependencies {
  /** The embedded runner passes its local event bus; otherwise Kafka is used. It is not closed here. */
  bus?: EventBus;
  /** Where artefacts come from: the registry in the object store the environment names, else the folder MODEL_DIR. */
  store?: ModelStore;
}

/**
 * Seeds the registry the environment names with the artefacts in a folder (the committed
 * `ml/artefacts` by default): every version published, ACTIVE activated where none is active yet.
 * The launchers call it before starting the worker; idempotent.
 */
export async function seedModelRegistry(source: Record<string, string | undefined>, artefactsDir: string = committedArtefacts, logger?: Logger) {
  const found = registryFromEnv(parseInferenceEnv(source), logger ? { logger } : {});
  if (!found) throw new Error('seedModelRegistry: no object store configured (S3_BUCKET or OBJECTS_DIR)');
  try {
    return await seedRegistry(found.registry, artefactsDir, logger);
  } finally {
    found.objects.close();
  }
}

/** Deletes every object under the registry's prefix (a test stack's own registry, when it stops). */
export async function dropModelRegistry(source: Record<string, string | undefined>) {
  const env = parseInferenceEnv(source);
  if (!objectsConfigured(env)) return;
  const objects = objectStoreFromEnv(env);
  try {
    for (const key of await objects.list(env.MODEL_REGISTRY_PREFIX)) await objects.delete(key);
  } finally {
    objects.close();
  }
}

/** Events per second over the last minute, for /metrics. */
function rateWindow(seconds = 60) {
  const buckets = new Map<number, number>();
  return {
    add() {
      const now = Math.floor(Date.now() / 1000);
      buckets.set(now, (buckets.get(now) ?? 0) + 1);
      for (const t of buckets.keys()) if (t <= now - seconds) buckets.delete(t);
    },
    rate() {
      const now = Math.floor(Date.now() / 1000);
      let sum = 0;
      for (const [t, n] of buckets) if (t > now - seconds) sum += n;
      return sum / seconds;
    },
  };
}

/**
 * Starts the inference worker: recorded and edited transactions get a suggested category
 * (`transactions.categorised.v1`) when the user's rules gave none, and spending that the anomaly
 * model scores at or above its threshold is reported (`transactions.anomalous.v1`), once per
 * event, through its outbox. `POST /predict` answers from the same models.
 */
export async function startInferenceWorker(env: InferenceEnv, deps: Dependencies = {}) {
  const logger = createLogger('inference-worker', env.LOG_LEVEL);
  const resources = lifecycle(logger);
  const fromEnv = deps.store ? null : registryFromEnv(env, { logger });
  if (fromEnv)
    await resources.open(
      'object store',
      async () => fromEnv.objects,
      (o) => o.close(),
    );
  const store = deps.store ?? fromEnv?.registry.modelStore() ?? folderModelStore(env.MODEL_DIR);
  // Swapped whole when the registry activates another version; each event uses the models of its moment.
  let models: Models = await resources.run('models', () => loadModels(store, logger));
  const db = await resources.open(
    'postgres',
    () =>
      openDatabase({
        ...connectionFromEnv(env),
        entities: [OutboxMessageSchema, ProcessedEventSchema],
        migrations,
        poolMax: 5,
      }),
    (d) => d.close(),
  );
  const bus =
    deps.bus ??
    (await resources.open(
      'kafka',
      () => busFromEnv(env, 'inference-worker', logger),
      (b) => b.close(),
    ));
  const relay = await resources.open(
    'outbox relay',
    () => startOutboxRelay({ db, bus, logger }),
    (r) => r.stop(),
  );

  const registry = new client.Registry();
  const latency = new client.Histogram({
    name: 'inference_latency_seconds',
    help: 'Time to evaluate one model on one transaction',
    labelNames: ['model'],
    // Fine below a millisecond (a prediction takes tens of microseconds), so that a p99 can be read off it.
    buckets: [0.00001, 0.00002, 0.00003, 0.00005, 0.000075, 0.0001, 0.00015, 0.0002, 0.0003, 0.0005, 0.00075, 0.001, 0.0025, 0.005, 0.01, 0.05],
    registers: [registry],
  });
  const events = new client.Counter({
    name: 'inference_events_total',
    help: 'Transaction events handled, by topic and outcome',
    labelNames: ['topic', 'outcome'],
    registers: [registry],
  });
  const window = rateWindow();
  new client.Gauge({
    name: 'inference_events_per_second',
    help: 'Transaction events handled per second, over the last minute',
    registers: [registry],
    collect() {
      this.set(window.rate());
    },
  });
  const info = new client.Gauge({ name: 'inference_model_info', help: 'The model versions being served (value 1)', labelNames: ['model', 'version'], registers: [registry] });
  const showVersions = () => {
    info.reset();
    info.set({ model: 'categoriser', version: models.categoriser.version }, 1);
    info.set({ model: 'anomaly', version: models.anomaly.version }, 1);
  };
  showVersions();
  const loadFailures = new client.Counter({
    name: 'inference_model_load_failures_total',
    help: 'Activated versions that could not be loaded (the previous ones kept serving)',
    labelNames: ['model'],
    registers: [registry],
  });

  // A newly activated (or rolled back) version is loaded in the background and swapped in whole;
  // one that cannot be read or loaded leaves the serving models in place and is reported (error
  // log, inference_model_load_failures_total), then tried again at the next poll.
  let refreshing: Promise<void> | null = null;
  async function refresh() {
    const wanted = { categoriser: await store.activeVersion('categoriser'), anomaly: await store.activeVersion('anomaly') };
    if (wanted.categoriser === models.categoriser.version && wanted.anomaly === models.anomaly.version) return;
    try {
      const next = await loadModels(store, logger);
      const from = { categoriser: models.categoriser.version, anomaly: models.anomaly.version };
      models = next;
      showVersions();
      logger.info({ from, to: { categoriser: next.categoriser.version, anomaly: next.anomaly.version } }, 'models switched');
    } catch (error) {
      for (const model of ['categoriser', 'anomaly'] as const) if (wanted[model] !== models[model].version) loadFailures.inc({ model });
      logger.error(
        { err: error, wanted, serving: { categoriser: models.categoriser.version, anomaly: models.anomaly.version } },
        'activated model cannot be loaded: keeping the previous one',
      );
    }
  }
  const refreshNow = () =>
    (refreshing ??= refresh()
      .catch((error: unknown) => logger.warn({ err: error }, 'model registry not reachable: keeping the current models'))
      .finally(() => {
        refreshing = null;
      }));
  if (env.MODEL_REFRESH_MS > 0) {
    const timer = setInterval(() => void refreshNow(), env.MODEL_REFRESH_MS);
    timer.unref();
    await resources.open(
      'model refresh',
      async () => timer,
      async (t) => {
        clearInterval(t);
        await refreshing;
      },
    );
  }

  const settings: InferenceSettings = { minConfidence: env.CATEGORY_MIN_CONFIDENCE, observe: (model, seconds) => latency.observe({ model }, seconds) };
  function count(topic: string, outcome: Outcome) {
    window.add();
    const label = !outcome.applied ? 'duplicate' : outcome.anomaly?.anomalous ? 'anomalous' : outcome.suggestion ? 'categorised' : 'no-result';
    events.inc({ topic, outcome: label });
    if (outcome.suggestion || outcome.anomaly?.anomalous) relay.poke();
  }

  const consumers = await resources.open(
    'consumers',
    (): Consumer[] => [],
    (list) => Promise.all(list.splice(0).map((consumer) => consumer.stop())),
  );
  await resources.run('consumers', async () => {
    consumers.push(
      await startConsumerWithRetries('transactions.recorded.v1 consumer', logger, () =>
        runConsumer({
          bus,
          logger,
          groupId: 'inference.transactions.recorded',
          topic: 'transactions.recorded.v1',
          retryDelaysMs: env.INFERENCE_RETRY_DELAYS_MS,
          handle: async (event) => count(event.topic, await inferRecorded(db, models, settings, event)),
        }),
      ),
    );
    consumers.push(
      await startConsumerWithRetries('transactions.updated.v1 consumer', logger, () =>
        runConsumer({
          bus,
          logger,
          groupId: 'inference.transactions.updated',
          topic: 'transactions.updated.v1',
          retryDelaysMs: env.INFERENCE_RETRY_DELAYS_MS,
          handle: async (event) => count(event.topic, await inferUpdated(db, models, settings, event)),
        }),
      ),
    );
  });

  const service = createHttpService({
    name: 'inference-worker',
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT,
    metricsHost: env.METRICS_HOST,
    logger,
    registry,
    readiness: { postgres: db.ping, kafka: bus.ping },
    routes: (app) => predictRoutes(app, { db, models: () => models, settings }),
    onStop: resources.closeAll,
  });
  const running = await resources.run('http server', () => service.start());
  return {
    ...running,
    db,
    /** The models being served now. */
    get models() {
      return models;
    },
    /** Asks the store for newly activated versions now (otherwise every MODEL_REFRESH_MS). */
    refreshModels: refreshNow,
  };
}
