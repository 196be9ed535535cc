import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus, encodeEvent, type EventBus, type EventPayload, type ReceivedMessage } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { s3ObjectStore } from '@analytica/objects';
import { dropSchema, eventually, services, uniqueName } from '@analytica/testing';
import { committedArtefacts, modelRegistry, parseInferenceEnv, seedRegistry, startInferenceWorker } from '../index.js';

/**
 * The inference worker on a real S3 API (s3proxy from infra/up.sh), Kafka and PostgreSQL: it serves
 * the registry's active version, switches when another is activated or rolled back, says which in
 * its events, /predict and /metrics, and keeps serving when the activated artefact cannot be read.
 */
const S3 = {
  S3_ENDPOINT: process.env.TEST_S3_ENDPOINT ?? 'http://127.0.0.1:4569',
  S3_BUCKET: 'analytica',
  S3_ACCESS_KEY_ID: 'analytica',
  S3_SECRET_ACCESS_KEY: 'analytica-secret',
};
const objects = s3ObjectStore({
  endpoint: S3.S3_ENDPOINT,
  bucket: S3.S3_BUCKET,
  region: 'us-east-1',
  accessKeyId: S3.S3_ACCESS_KEY_ID,
  secretAccessKey: S3.S3_SECRET_ACCESS_KEY,
  createBucket: true,
});
const registryPrefix = `${uniqueName('serving')}/models/`;
const registry = modelRegistry(objects, { prefix: registryPrefix, actor: 'test' });
const schema = uniqueName('inference_serving');
const topicPrefix = `${uniqueName('s')}.`;
const logger = createLogger('test', 'silent');
let worker: Awaited<ReturnType<typeof startInferenceWorker>>;
let bus: EventBus;
let dir = '';
const categorised: ReceivedMessage[] = [];
let watch: { stop(): Promise<void> } | undefined;
const committed = (await readFile(path.join(committedArtefacts, 'categoriser/ACTIVE'), 'utf8')).trim();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'serving-'));
  await seedRegistry(registry, committedArtefacts);
  // A second categoriser version: the committed weights under another name, a better held-out score.
  const v2 = path.join(dir, 'v2');
  await cp(path.join(committedArtefacts, 'categoriser', committed), v2, { recursive: true });
  const metrics = JSON.parse(await readFile(path.join(v2, 'metrics.json'), 'utf8')) as { macroF1: number };
  await writeFile(path.join(v2, 'metrics.json'), JSON.stringify({ ...metrics, version: 'v2', macroF1: metrics.macroF1 + 0.001 }));
  await registry.publish('categoriser', 'v2', v2);

  worker = await startInferenceWorker(
    parseInferenceEnv({
      ...S3,
      MODEL_REGISTRY_PREFIX: registryPrefix,
      MODEL_REFRESH_MS: '200',
      // Not the committed folder: the registry alone must be enough.
      MODEL_DIR: path.join(dir, 'nothing-here'),
      LOG_LEVEL: 'silent',
      PORT: '0',
      DATABASE_URL: services.databaseUrl,
      DATABASE_SCHEMA: schema,
      KAFKA_BROKERS: services.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: topicPrefix,
      INFERENCE_RETRY_DELAYS_MS: '50,100',
    }),
  );
  bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'serving-test', prefix: topicPrefix, logger });
  watch = await bus.consume({ groupId: 'watch-categorised', topics: ['transactions.categorised.v1'], handle: async (m) => void categorised.push(m) });
}, 120_000);

afterAll(async () => {
  await watch?.stop();
  await bus?.close();
  await worker?.stop();
  await dropSchema(schema);
  for (const key of await objects.list(registryPrefix.split('/')[0]!)) await objects.delete(key);
  objects.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Records an uncategorised transaction; answers the model version its suggestion carries. */
async function suggestionVersion(): Promise<string> {
  const userId = randomUUID();
  const payload: EventPayload<'transactions.recorded.v1'> = {
    transactionId: randomUUID(),
    userId,
    accountId: 'acc-1',
    payee: 'REWE SAGT DANKE 4411',
    amountMinor: '-3245',
    categoryId: null,
    currency: 'EUR',
    bookedAt: '2025-06-03T10:15:00.000Z',
    splits: [],
    transferId: null,
  };
  await bus.publish('transactions.recorded.v1', [encodeEvent('transactions.recorded.v1', userId, payload)]);
  const found = await eventually(async () => {
    const mine = categorised.map((m) => JSON.parse(m.value) as EventPayload<'transactions.categorised.v1'>).find((p) => p.transactionId === payload.transactionId);
    return mine;
  }, 20_000);
  expect(found).toMatchObject({ category: 'Groceries', model: 'categoriser' });
  return found.modelVersion;
}

async function served() {
  const predict = (await (
    await fetch(`${worker.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ payee: 'LIDL', amountMinor: -1200 }) })
  ).json()) as { category: { modelVersion: string } };
  const metrics = await (await fetch(`${worker.metricsUrl}/metrics`)).text();
  const info = [...metrics.matchAll(/^inference_model_info\{model="categoriser",version="([^"]+)"[^}]*\} 1$/gm)].map((m) => m[1]);
  return { predict: predict.category.modelVersion, info, failures: /^inference_model_load_failures_total\{model="categoriser"[^}]*\} (\d+)/m.exec(metrics)?.[1] ?? '0' };
}

const switchedTo = (version: string) => eventually(async () => (worker.models.categoriser.version === version ? true : undefined), 10_000);

describe('the inference worker serves the registry', () => {
  it('serves the active version, then the newly activated one, then the rolled-back one', async () => {
    expect(worker.models.categoriser.version).toBe(committed);
    expect(await suggestionVersion()).toBe(committed);
    expect(await served()).toMatchObject({ predict: committed, info: [committed] });

    await registry.activate('categoriser', 'v2');
    await switchedTo('v2');
    expect(await suggestionVersion()).toBe('v2');
    expect(await served()).toMatchObject({ predict: 'v2', info: ['v2'] });

    await registry.rollback('categoriser');
    await switchedTo(committed);
    expect(await suggestionVersion()).toBe(committed);
    expect(await served()).toMatchObject({ predict: committed, info: [committed] });
  });

  it('keeps serving the previous version when the activated artefact cannot be read, and counts the failure', async () => {
    const registryKey = `${registryPrefix}categoriser/registry.json`;
    const saved = (await objects.get(registryKey))!;
    // As if someone pointed the registry at an artefact that is gone.
    await objects.put(registryKey, JSON.stringify({ model: 'categoriser', active: 'gone', previous: [committed], updated: new Date().toISOString() }));
    await eventually(async () => ((await served()).failures !== '0' ? true : undefined), 10_000);
    expect(worker.models.categoriser.version).toBe(committed);
    expect(await suggestionVersion()).toBe(committed);
    await objects.put(registryKey, saved);
  });
});
