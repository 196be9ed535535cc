import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { committedArtefacts, modelRegistry, seedRegistry } from '@analytica/inference-worker';
import { createLogger } from '@analytica/logger';
import { followSentimentModel, loadSentimentModel, type SentimentArtefact } from '@analytica/news-subgraph/enrich';
import { s3ObjectStore } from '@analytica/objects';

/** The real S3 API: s3proxy from infra/up.sh, a key prefix per run. */
const objects = s3ObjectStore({
  endpoint: process.env.TEST_S3_ENDPOINT ?? 'http://127.0.0.1:4569',
  bucket: 'analytica',
  region: 'us-east-1',
  accessKeyId: 'analytica',
  secretAccessKey: 'analytica-secret',
  createBucket: true,
});
const prefix = `test-sentiment-${randomUUID().slice(0, 8)}/`;
const registry = modelRegistry(objects, { prefix, actor: 'test' });
const logger = createLogger('test', 'silent');
const committed = (await readFile(path.join(committedArtefacts, 'sentiment/ACTIVE'), 'utf8')).trim();
let dir = '';

/** The committed model with every weight's sign turned round (good news reads as bad), as another version. */
async function reversedVersion(version: string, macroF1: number) {
  const source = path.join(committedArtefacts, 'sentiment', committed);
  const artefact = JSON.parse(await readFile(path.join(source, 'model.json'), 'utf8')) as SentimentArtefact;
  const reversed: SentimentArtefact = {
    ...artefact,
    version,
    intercept: artefact.intercept.map((w) => -w),
    weights: Object.fromEntries(Object.entries(artefact.weights).map(([t, w]) => [t, w.map((x) => -x)])),
  };
  const metrics = JSON.parse(await readFile(path.join(source, 'metrics.json'), 'utf8')) as { heldOutPredicates: Record<string, unknown> };
  const target = path.join(dir, version);
  await mkdir(target, { recursive: true });
  await writeFile(path.join(target, 'model.json'), JSON.stringify(reversed));
  await writeFile(path.join(target, 'metrics.json'), JSON.stringify({ ...metrics, version, heldOutPredicates: { ...metrics.heldOutPredicates, macroF1 } }));
  return target;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sentiment-registry-'));
});
afterAll(async () => {
  for (const key of await objects.list(prefix)) await objects.delete(key);
  objects.close();
  await rm(dir, { recursive: true, force: true });
});

const HEADLINE = 'Apple shares soar after record iPhone sales';

describe('the sentiment model in the model registry (s3proxy)', () => {
  it('serves the bundled model while the registry is empty, then the seeded ACTIVE, and follows activation and rollback', async () => {
    const source = await followSentimentModel({ env: { MODEL_REGISTRY_PREFIX: prefix, MODEL_REFRESH_MS: 0 }, objects, logger });
    const switches: string[] = [];
    try {
      expect(source.current().version).toBe(loadSentimentModel().version);

      // The launchers seed the registry from ml/artefacts: the committed sentiment version becomes active.
      const seeded = await seedRegistry(registry, committedArtefacts);
      expect(seeded.sentiment).toEqual({ published: [committed], active: committed });
      const manifest = await registry.manifest('sentiment', committed);
      expect(manifest?.heldOut).toEqual({ metric: 'macroF1', value: 0.8137, baselines: { majorityClass: 0.1971 } });
      // The same version as the bundled fallback: nothing to switch.
      expect(await source.refresh()).toBe(false);
      expect(source.current().version).toBe(committed);
      expect(source.current().score(HEADLINE)).toBeGreaterThan(0.3);

      const followed = await followSentimentModel({
        env: { MODEL_REGISTRY_PREFIX: prefix, MODEL_REFRESH_MS: 0 },
        objects,
        logger,
        onChange: (next, previous) => void switches.push(`${previous.version}->${next.version}`),
      });
      await registry.publish('sentiment', 'reversed-v2', await reversedVersion('reversed-v2', 0.85));
      await registry.activate('sentiment', 'reversed-v2');
      expect(await followed.refresh()).toBe(true);
      expect(followed.current().version).toBe('reversed-v2');
      expect(followed.current().score(HEADLINE)).toBeLessThan(-0.3);

      await registry.rollback('sentiment', { reason: 'test' });
      expect(await followed.refresh()).toBe(true);
      expect(followed.current().version).toBe(committed);
      expect(switches).toEqual([`${committed}->reversed-v2`, `reversed-v2->${committed}`]);
      await followed.stop();
    } finally {
      await source.stop();
    }
  });

  it('refuses to publish a sentiment artefact that does not load, or whose version is another', async () => {
    const broken = path.join(dir, 'broken');
    await mkdir(broken, { recursive: true });
    const good = await reversedVersion('other-name', 0.9);
    await writeFile(path.join(broken, 'metrics.json'), await readFile(path.join(good, 'metrics.json')));
    await writeFile(path.join(broken, 'model.json'), JSON.stringify({ format: 'something-else', version: 'broken' }));
    await expect(registry.publish('sentiment', 'broken', broken)).rejects.toThrow(/unknown format something-else/);
    await expect(registry.publish('sentiment', 'renamed', good)).rejects.toThrow(/model.json is version other-name/);
  });

  it('keeps the current model when the active version cannot be loaded', async () => {
    const source = await followSentimentModel({ env: { MODEL_REGISTRY_PREFIX: prefix, MODEL_REFRESH_MS: 0 }, objects, logger });
    const before = source.current().version;
    // A registry document naming a version whose files are not there (a half-finished copy).
    await objects.put(`${prefix}sentiment/registry.json`, JSON.stringify({ model: 'sentiment', active: 'missing-v9', previous: [], updated: new Date().toISOString() }));
    expect(await source.refresh()).toBe(false);
    expect(source.current().version).toBe(before);
    await source.stop();
  });
});
