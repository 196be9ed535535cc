import client from 'prom-client';
import { busFromEnv, OutboxMessageSchema, ProcessedEventSchema, runConsumer, startConsumerWithRetries, startOutboxRelay, type Consumer, type EventBus } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { openDatabase, connectionFromEnv } from '@analytica/postgres';
import { createHttpService, lifecycle } from '@analytica/service';
import type { InferenceEnv } from './environment.js';
import { inferRecorded, inferUpdated, type InferenceSettings, type Outcome } from './inference.js';
import { migrations } from './migrations.js';
import { loadModels } from './models/models.js';
import { folderModelStore, type ModelStore } from './models/store.js';
import { predictRoutes } from './predict.js';

export { inferenceEnvShape, parseInferenceEnv, type InferenceEnv } from './environment.js';
export { folderModelStore, committedArtefacts, type ModelStore } from './models/store.js';

export interface Dependencies {
  /** The embedded runner passes its local event bus; otherwise Kafka is used. It is not closed here. */
  bus?: EventBus;
  /** Where artefacts come from; the folder MODEL_DIR by default (an S3 store later). */
  store?: ModelStore;
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
  const store = deps.store ?? folderModelStore(env.MODEL_DIR);
  const models = await resources.run('models', () => loadModels(store, logger));
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
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
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
  info.set({ model: 'categoriser', version: models.categoriser.version }, 1);
  info.set({ model: 'anomaly', version: models.anomaly.version }, 1);

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
  return { ...running, db, models };
}
