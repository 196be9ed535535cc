import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { committedArtefacts, modelRegistry, seedRegistry } from '@analytica/inference-worker';
import { parseNewsEnv, startNewsService } from '@analytica/news-subgraph';
import type { SentimentArtefact } from '@analytica/news-subgraph/enrich';
import { s3ObjectStore } from '@analytica/objects';
import { createTestAuth, eventually, gql, services, uniqueName, type TestAuth } from '@analytica/testing';

// The news service following the model registry on s3proxy, as in stack mode.
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
const prefix = `test-rescore-${randomUUID().slice(0, 8)}/`;
const registry = modelRegistry(objects, { prefix, actor: 'test' });
const tablePrefix = `${uniqueName('news_rescore_e2e')}_`;
const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
const committed = (await readFile(path.join(committedArtefacts, 'sentiment/ACTIVE'), 'utf8')).trim();
let dir = '';
let auth: TestAuth;
let news: Awaited<ReturnType<typeof startNewsService>>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rescore-'));
  await seedRegistry(registry, committedArtefacts);
  auth = await createTestAuth();
  news = await startNewsService(
    parseNewsEnv({
      PORT: '0',
      LOG_LEVEL: 'silent',
      ...auth.env,
      DYNAMODB_ENDPOINT: services.dynamoEndpoint,
      DYNAMODB_TABLE_PREFIX: tablePrefix,
      ...S3,
      MODEL_REGISTRY_PREFIX: prefix,
      MODEL_REFRESH_MS: '200',
    }),
  );
});
afterAll(async () => {
  await news?.stop();
  await deleteTablesWithPrefix(dynamo, tablePrefix);
  dynamo.close();
  await auth?.close();
  for (const key of await objects.list(prefix)) await objects.delete(key);
  objects.close();
  await rm(dir, { recursive: true, force: true });
});

/** The committed model with every weight's sign turned round, published as another version with a better held-out macro-F1. */
async function publishReversed(version: string) {
  const source = path.join(committedArtefacts, 'sentiment', committed);
  const artefact = JSON.parse(await readFile(path.join(source, 'model.json'), 'utf8')) as SentimentArtefact;
  const metrics = JSON.parse(await readFile(path.join(source, 'metrics.json'), 'utf8')) as { heldOutPredicates: Record<string, unknown> };
  const target = path.join(dir, version);
  await mkdir(target, { recursive: true });
  await writeFile(
    path.join(target, 'model.json'),
    JSON.stringify({
      ...artefact,
      version,
      intercept: artefact.intercept.map((w) => -w),
      weights: Object.fromEntries(Object.entries(artefact.weights).map(([t, w]) => [t, w.map((x) => -x)])),
    }),
  );
  await writeFile(path.join(target, 'metrics.json'), JSON.stringify({ ...metrics, version, heldOutPredicates: { ...metrics.heldOutPredicates, macroF1: 0.85 } }));
  await registry.publish('sentiment', version, target);
}

type Scored = { id: string; sentiment: number; sentimentModel: string; tickerSentiments: { modelVersion: string }[] };
const articles = async () => {
  const result = await gql(`${news.url}/graphql`, '{ articles(first: 50) { edges { node { id sentiment sentimentModel tickerSentiments { modelVersion } } } } }', {
    token: auth.tokenFor({ id: 'a11ce000-0000-4000-8000-000000000001' }),
  });
  expect(result.errors).toBeUndefined();
  return (result.data.articles.edges as { node: Scored }[]).map((e) => e.node);
};
const allOn = async (version: string) => {
  const list = await articles();
  return list.length === 42 && list.every((a) => a.sentimentModel === version && a.tickerSentiments.every((t) => t.modelVersion === version)) ? list : undefined;
};

describe('re-scoring when the active sentiment model changes', () => {
  it('moves every article to a newly activated version, and back on rollback', async () => {
    const seeded = await eventually(() => allOn(committed), 10_000);
    const apple = (list: Scored[]) => list.find((a) => a.id === 'apple-services-revenue-record')!.sentiment;
    expect(apple(seeded)).toBeGreaterThan(0.5);

    await publishReversed('reversed-e2e');
    await registry.activate('sentiment', 'reversed-e2e');
    const moved = await eventually(() => allOn('reversed-e2e'), 15_000);
    expect(apple(moved)).toBeLessThan(-0.5);

    await registry.rollback('sentiment', { reason: 'test' });
    const back = await eventually(() => allOn(committed), 15_000);
    expect(apple(back)).toBe(apple(seeded));
  });
});
