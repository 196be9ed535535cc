import { describe, expect, it } from 'vitest';
import { loadAnomalyDetector } from './anomaly.js';
import { loadCategoriser } from './categoriser.js';
import { anomalyFeatures, fnv1a, newProfile, normalizePayee, updateProfile } from './features.js';
import { committedArtefacts, folderModelStore } from './store.js';

const store = folderModelStore(committedArtefacts);

async function active(model: string) {
  const version = await store.activeVersion(model);
  if (!version) throw new Error(`no active ${model} in ${store.description}`);
  const read = async (file: string) => JSON.parse((await store.read(model, version, file)).toString('utf8'));
  return { version, artefact: await read('model.json'), parity: await read('parity.json'), metrics: await read('metrics.json') };
}

describe('features', () => {
  it('hash and normalise as the Python pipeline does', () => {
    // Values printed by ml/pipeline/features.py.
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('w:lidl')).toBe(0xf70ea4cb);
    expect(normalizePayee('SUMUP *Café Luna 1234, Berlin')).toBe('sumup caf luna berlin');
  });
});

describe('the active categoriser', () => {
  it('gives the probabilities Python gave for the held-out fixture', async () => {
    const { version, artefact, parity } = await active('categoriser');
    const model = loadCategoriser(version, artefact);
    expect(parity.inputs.length).toBeGreaterThanOrEqual(100);
    parity.inputs.forEach((input: { payee: string; amountMinor: number; bookedAt: string }, i: number) => {
      const expected = parity.expected[i] as { category: string; probabilities: number[] };
      const got = model.predict({ payee: input.payee, amountMinor: input.amountMinor, bookedAt: new Date(input.bookedAt) });
      expect(got.category, `${i}: ${input.payee}`).toBe(expected.category);
      model.probabilities({ payee: input.payee, amountMinor: input.amountMinor, bookedAt: new Date(input.bookedAt) }).forEach((p, c) => {
        expect(Math.abs(p - expected.probabilities[c]!)).toBeLessThan(1e-9);
      });
    });
  });

  it('refuses a corrupt artefact rather than serving part of it', async () => {
    const { version, artefact } = await active('categoriser');
    expect(() => loadCategoriser(version, { ...artefact, intercept: [1] })).toThrow(/malformed/);
    expect(() => loadCategoriser(version, { ...artefact, featuresVersion: 99 })).toThrow(/features/);
    expect(() => loadCategoriser(version, null)).toThrow(/format/);
  });
});

describe('the active anomaly detector', () => {
  it('computes the features and scores Python computed, replaying three held-out users', async () => {
    const { version, artefact, parity } = await active('anomaly');
    const model = loadAnomalyDetector(version, artefact);
    const profiles = new Map<string, ReturnType<typeof newProfile>>();
    expect(parity.inputs.length).toBeGreaterThanOrEqual(100);
    parity.inputs.forEach((input: { userId: string; categoryKey: string; payee: string; amountMinor: number; bookedAt: string }, i: number) => {
      const expected = parity.expected[i] as { features: number[]; score: number };
      const profile = profiles.get(input.userId) ?? newProfile();
      profiles.set(input.userId, profile);
      const at = new Date(input.bookedAt).getTime();
      const features = anomalyFeatures(profile, input.categoryKey, input.payee, input.amountMinor, at);
      features.forEach((v, j) => expect(Math.abs(v - expected.features[j]!), `row ${i} feature ${j}`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(v))));
      expect(Math.abs(model.scoreFeatures(features) - expected.score), `row ${i}`).toBeLessThan(1e-6);
      updateProfile(profile, input.categoryKey, input.payee, input.amountMinor, at);
    });
  });

  it('refuses a corrupt artefact', async () => {
    const { version, artefact } = await active('anomaly');
    const broken = structuredClone(artefact);
    broken.trees[0].left[0] = 0; // a loop
    expect(() => loadAnomalyDetector(version, broken)).toThrow(/malformed node/);
    expect(() => loadAnomalyDetector(version, { ...artefact, features: ['x'] })).toThrow(/features/);
  });
});

describe('the recorded metrics', () => {
  it('beat the baselines the issue names', async () => {
    const categoriser = (await active('categoriser')).metrics;
    expect(categoriser.macroF1).toBeGreaterThan(categoriser.baselines.majorityClass.macroF1);
    expect(categoriser.macroF1).toBeGreaterThan(categoriser.baselines.payeeLookup.macroF1);
    const anomaly = (await active('anomaly')).metrics;
    expect(anomaly.auprc).toBeGreaterThan(anomaly.baselines.categoryZScore.auprc);
    expect(anomaly.precisionAt100).toBeGreaterThan(anomaly.baselines.categoryZScore.precisionAt100);
  });
});
