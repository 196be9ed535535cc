import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3ObjectStore } from '@analytica/objects';
import { committedArtefacts } from '../models/store.js';
import { modelRegistry, seedRegistry } from './registry.js';

/** The real S3 API: s3proxy from infra/up.sh (infra/s3proxy/start.sh), a key prefix per run. */
export const testObjects = () =>
  s3ObjectStore({
    endpoint: process.env.TEST_S3_ENDPOINT ?? 'http://127.0.0.1:4569',
    bucket: 'analytica',
    region: 'us-east-1',
    accessKeyId: 'analytica',
    secretAccessKey: 'analytica-secret',
    createBucket: true,
  });

const objects = testObjects();
const prefix = `test-registry-${randomUUID().slice(0, 8)}/`;
const registry = modelRegistry(objects, { prefix, actor: 'test' });
let dir = '';
const active = (await readFile(path.join(committedArtefacts, 'categoriser/ACTIVE'), 'utf8')).trim();

/** A copy of the committed categoriser as another version with another held-out macro-F1. */
async function categoriserVersion(version: string, macroF1: number, folder = version) {
  const target = path.join(dir, 'categoriser', folder);
  await cp(path.join(committedArtefacts, 'categoriser', active), target, { recursive: true });
  const metrics = JSON.parse(await readFile(path.join(target, 'metrics.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(path.join(target, 'metrics.json'), JSON.stringify({ ...metrics, version, macroF1 }));
  return target;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'registry-'));
});
afterAll(async () => {
  for (const key of await objects.list(prefix)) await objects.delete(key);
  objects.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the model registry on s3proxy', () => {
  it('publishes two versions with manifests; activation refuses the worse one; rollback restores the previous', async () => {
    const good = await registry.publish('categoriser', 'good', await categoriserVersion('good', 0.96));
    const worse = await registry.publish('categoriser', 'worse', await categoriserVersion('worse', 0.91));
    expect(good.published && worse.published).toBe(true);
    expect(good.manifest).toMatchObject({
      model: 'categoriser',
      version: 'good',
      artefactKey: `${prefix}categoriser/good/model.json`,
      heldOut: { metric: 'macroF1', value: 0.96, baselines: { majorityClass: 0.0297, payeeLookup: 0.8767 } },
    });
    expect(Date.parse(good.manifest.created)).not.toBeNaN();
    // The objects really are in the bucket: artefact, metrics, parity and the manifest.
    expect(await objects.list(`${prefix}categoriser/good/`)).toEqual(['manifest.json', 'metrics.json', 'model.json', 'parity.json'].map((f) => `${prefix}categoriser/good/${f}`));
    expect((await registry.versions('categoriser')).map((v) => v.version)).toEqual(['good', 'worse']);

    expect((await registry.activate('categoriser', 'good')).state).toMatchObject({ active: 'good', previous: [] });
    await expect(registry.activate('categoriser', 'worse')).rejects.toThrow(/refused to activate categoriser worse: macroF1 0.91 is worse than the active good's 0.96/);
    expect((await registry.state('categoriser')).active).toBe('good');

    // Forced, it needs a reason, and the override is audited.
    await expect(registry.activate('categoriser', 'worse', { force: true })).rejects.toThrow(/needs a reason/);
    expect((await registry.activate('categoriser', 'worse', { force: true, reason: 'hotfix for payee drift' })).state).toMatchObject({ active: 'worse', previous: ['good'] });
    const forced = (await registry.audit('categoriser')).at(-1)!;
    expect(forced).toMatchObject({ action: 'activate', version: 'worse', from: 'good', forced: true, reason: 'hotfix for payee drift', by: 'test' });
    expect(forced.overrode.join()).toMatch(/worse than the active good/);

    expect((await registry.rollback('categoriser')).state).toMatchObject({ active: 'good', previous: [] });
    expect((await registry.audit('categoriser')).map((e) => `${e.action} ${e.version}`)).toEqual(['activate good', 'activate worse', 'rollback good']);
    await expect(registry.rollback('categoriser')).rejects.toThrow(/no previous version/);

    // A better one is accepted without force; rollback returns to good.
    await registry.publish('categoriser', 'better', await categoriserVersion('better', 0.97));
    expect((await registry.activate('categoriser', 'better')).state).toMatchObject({ active: 'better', previous: ['good'] });
    expect((await registry.rollback('categoriser')).state.active).toBe('good');
  });

  it('refuses a version that does not beat its baselines, even with nothing active', async () => {
    await registry.publish('categoriser', 'weak', await categoriserVersion('weak', 0.8));
    const fresh = modelRegistry(objects, { prefix: `${prefix}fresh/` });
    await fresh.publish('categoriser', 'weak', path.join(dir, 'categoriser', 'weak'));
    await expect(fresh.activate('categoriser', 'weak')).rejects.toThrow(/macroF1 0.8 does not beat the payeeLookup baseline \(0.8767\)/);
    expect((await fresh.state('categoriser')).active).toBeNull();
  });

  it('keeps versions immutable and refuses corrupt artefacts at publish and at activation', async () => {
    const again = await registry.publish('categoriser', 'good', path.join(dir, 'categoriser', 'good'));
    expect(again.published).toBe(false);
    const other = await categoriserVersion('good', 0.99, 'good-retrained');
    await expect(registry.publish('categoriser', 'good', other)).rejects.toThrow(/already published with other contents/);

    const corrupt = await categoriserVersion('corrupt', 0.99);
    await writeFile(path.join(corrupt, 'model.json'), '{"format":"analytica.hashed-logistic.v1"');
    await expect(registry.publish('categoriser', 'corrupt', corrupt)).rejects.toThrow(/not JSON/);

    // Tampered in the bucket after publishing: the hash no longer matches the manifest.
    await registry.publish('categoriser', 'tampered', await categoriserVersion('tampered', 0.99));
    await objects.put(`${prefix}categoriser/tampered/model.json`, '{}');
    await expect(registry.activate('categoriser', 'tampered', { force: true, reason: 'try' })).rejects.toThrow(/does not match its manifest/);
    await expect(registry.activate('categoriser', 'missing')).rejects.toThrow(/not published/);
    await expect(registry.activate('forecast', 'x')).rejects.toThrow(/unknown model/);
  });

  it('seeds from the committed artefacts once: published, ACTIVE activated, nothing changed the second time', async () => {
    const seeded = modelRegistry(objects, { prefix: `${prefix}seed/` });
    const first = await seedRegistry(seeded, committedArtefacts);
    expect(first.categoriser).toEqual({ published: [active], active });
    expect(first.anomaly!.active).toBe((await readFile(path.join(committedArtefacts, 'anomaly/ACTIVE'), 'utf8')).trim());
    const second = await seedRegistry(seeded, committedArtefacts);
    expect(second.categoriser).toEqual({ published: [], active });
  });
});
