import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@analytica/logger';
import { loadSentimentModel, type SentimentArtefact } from '@analytica/news-subgraph/enrich';
import type { ObjectStore } from '@analytica/objects';
import { loadAnomalyDetector } from '../models/anomaly.js';
import { loadCategoriser } from '../models/categoriser.js';
import type { ModelStore } from '../models/store.js';

/**
 * The model registry: trained artefacts as versioned objects in object storage (S3, or a folder in
 * embedded mode), one manifest per version (its held-out metric, baselines, files and their hashes)
 * and one registry document per model naming the active version and the ones before it.
 *
 *   <prefix><model>/<version>/model.json, metrics.json, parity.json   the artefact, as ml:train wrote it
 *   <prefix><model>/<version>/manifest.json                          written last: a version exists once it is there
 *   <prefix><model>/registry.json                                    { active, history[] } (the active flag)
 *   <prefix><model>/audit/<time>-<action>-<version>.json             one per activation, forced or not, and rollback
 *
 * Versions are immutable (publishing the same version with other bytes is refused). Activation
 * refuses a version whose held-out metric is not above its baselines', or worse than the active
 * version's, unless forced (logged at warn and audited with the reason).
 */

/** The inference worker serves the first two; news-ingest and the news subgraph serve `sentiment` (ml/sentiment). */
export const MODELS = ['categoriser', 'anomaly', 'sentiment'] as const;
export type ModelName = (typeof MODELS)[number];

/** The held-out metric each model is judged by (higher is better), and the baselines it must beat. */
export const HELD_OUT: Record<ModelName, { metric: string; read(m: Metrics): number; baselines(m: Metrics): Record<string, number> }> = {
  categoriser: {
    metric: 'macroF1',
    read: (m) => num(m.macroF1),
    baselines: (m) => ({ majorityClass: num(m.baselines?.majorityClass?.macroF1), payeeLookup: num(m.baselines?.payeeLookup?.macroF1) }),
  },
  anomaly: {
    metric: 'auprc',
    read: (m) => num(m.auprc),
    baselines: (m) => ({ categoryZScore: num(m.baselines?.categoryZScore?.auprc) }),
  },
  // Held-out predicates: phrasings the model never saw (ml/sentiment/README.md).
  sentiment: {
    metric: 'macroF1',
    read: (m) => num(m.heldOutPredicates?.macroF1),
    baselines: (m) => ({ majorityClass: num(m.heldOutPredicates?.majorityBaseline?.macroF1) }),
  },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- metrics.json is free-form beyond the fields read here
type Metrics = Record<string, any>;
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN);

export interface Manifest {
  model: ModelName;
  version: string;
  created: string;
  /** The key of the served artefact (model.json). */
  artefactKey: string;
  heldOut: { metric: string; value: number; baselines: Record<string, number> };
  files: Record<string, { key: string; bytes: number; sha256: string }>;
  /** metrics.json as ml:train wrote it. */
  metrics: Metrics;
}

export interface RegistryState {
  model: ModelName;
  active: string | null;
  /** Versions active before the current one, oldest first: rollback returns to the last. */
  previous: string[];
  updated: string;
}

export interface AuditEntry {
  action: 'activate' | 'rollback';
  model: ModelName;
  version: string;
  from: string | null;
  forced: boolean;
  reason: string | null;
  by: string;
  at: string;
  /** What a forced activation overrode. */
  overrode: string[];
}

export class RegistryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryError';
  }
}

const VERSION = /^[A-Za-z0-9._-]{1,64}$/;
const FILES = ['model.json', 'metrics.json', 'parity.json'] as const;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function checkModel(model: string): ModelName {
  if (!(MODELS as readonly string[]).includes(model)) throw new RegistryError(`unknown model ${JSON.stringify(model)} (known: ${MODELS.join(', ')})`);
  return model as ModelName;
}
function checkVersion(version: string) {
  if (!VERSION.test(version) || version === '.' || version === '..') throw new RegistryError(`not a valid version: ${JSON.stringify(version)}`);
  return version;
}

/** Builds the model from its artefact: a corrupt or incompatible file is refused before it can be published or served. */
function checkArtefact(model: ModelName, version: string, bytes: Buffer) {
  let artefact: unknown;
  try {
    artefact = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new RegistryError(`${model} ${version}: model.json is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  try {
    if (model === 'categoriser') loadCategoriser(version, artefact);
    else if (model === 'anomaly') loadAnomalyDetector(version, artefact);
    else if (loadSentimentModel(artefact as SentimentArtefact).version !== version)
      throw new Error(`sentiment ${version}: model.json is version ${(artefact as SentimentArtefact).version}`);
  } catch (error) {
    throw new RegistryError(error instanceof Error ? error.message : String(error));
  }
}

export interface RegistryOptions {
  /** Key prefix of the registry in the store; `models/` by default (tests use their own). */
  prefix?: string;
  logger?: Logger;
  /** Who acts, for the audit log (the CLI passes the OS user). */
  actor?: string;
  now?: () => Date;
}

export type ModelRegistry = ReturnType<typeof modelRegistry>;

export function modelRegistry(objects: ObjectStore, options: RegistryOptions = {}) {
  const prefix = options.prefix ?? 'models/';
  const now = options.now ?? (() => new Date());
  const actor = options.actor ?? 'system';
  const key = (...parts: string[]) => `${prefix}${parts.join('/')}`;

  async function readJson<T>(k: string): Promise<T | null> {
    const bytes = await objects.get(k);
    if (!bytes) return null;
    return JSON.parse(bytes.toString('utf8')) as T;
  }
  const putJson = (k: string, value: unknown) => objects.put(k, `${JSON.stringify(value, null, 2)}\n`, 'application/json');

  async function state(model: ModelName): Promise<RegistryState> {
    return (await readJson<RegistryState>(key(model, 'registry.json'))) ?? { model, active: null, previous: [], updated: now().toISOString() };
  }
  async function manifest(model: ModelName, version: string): Promise<Manifest | null> {
    return readJson<Manifest>(key(model, checkVersion(version), 'manifest.json'));
  }
  async function requireManifest(model: ModelName, version: string) {
    const m = await manifest(model, version);
    if (!m) throw new RegistryError(`${model} ${version} is not published in ${objects.description}`);
    return m;
  }
  /** The artefact as stored, checked against the manifest's hash and loaded: what the worker will serve. */
  async function verify(m: Manifest) {
    const bytes = await objects.get(m.artefactKey);
    if (!bytes) throw new RegistryError(`${m.model} ${m.version}: ${m.artefactKey} is missing`);
    if (sha256(bytes) !== m.files['model.json']?.sha256) throw new RegistryError(`${m.model} ${m.version}: ${m.artefactKey} does not match its manifest's sha256`);
    checkArtefact(m.model, m.version, bytes);
  }
  async function audit(entry: AuditEntry) {
    const stamp = entry.at.replace(/[:.]/g, '-');
    await putJson(key(entry.model, 'audit', `${stamp}-${entry.action}-${entry.version}.json`), entry);
    const log = { ...entry, audit: true };
    if (entry.forced) options.logger?.warn(log, `model ${entry.action} FORCED: ${entry.model} ${entry.version} (${entry.overrode.join('; ')})`);
    else options.logger?.info(log, `model ${entry.action}: ${entry.model} ${entry.version}`);
  }

  return {
    description: `${objects.description} (${prefix})`,
    state: (model: string) => state(checkModel(model)),
    manifest: (model: string, version: string) => manifest(checkModel(model), version),

    /**
     * Publishes one version from a folder as `ml:train` writes it (`<dir>/model.json`, `metrics.json`,
     * optional `parity.json`). The manifest is written last. The same bytes again: a no-op
     * (`published: false`); other bytes under a published version: refused.
     */
    async publish(model: string, version: string, dir: string): Promise<{ manifest: Manifest; published: boolean }> {
      const name = checkModel(model);
      checkVersion(version);
      const files: Record<string, Buffer> = {};
      for (const file of FILES) {
        try {
          files[file] = await readFile(path.join(dir, file));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT' && file === 'parity.json') continue;
          throw new RegistryError(`${name} ${version}: cannot read ${path.join(dir, file)}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      checkArtefact(name, version, files['model.json']!);
      let metrics: Metrics;
      try {
        metrics = JSON.parse(files['metrics.json']!.toString('utf8')) as Metrics;
      } catch {
        throw new RegistryError(`${name} ${version}: metrics.json is not JSON`);
      }
      if (metrics.version !== undefined && metrics.version !== version) throw new RegistryError(`${name} ${version}: metrics.json is for version ${String(metrics.version)}`);
      const judge = HELD_OUT[name];
      const value = judge.read(metrics);
      if (Number.isNaN(value)) throw new RegistryError(`${name} ${version}: metrics.json has no held-out ${judge.metric}`);
      const hashes = Object.fromEntries(Object.entries(files).map(([f, b]) => [f, { key: key(name, version, f), bytes: b.length, sha256: sha256(b) }]));
      const existing = await manifest(name, version);
      if (existing) {
        const same = Object.entries(hashes).every(([f, h]) => existing.files[f]?.sha256 === h.sha256) && Object.keys(existing.files).length === Object.keys(hashes).length;
        if (!same) throw new RegistryError(`${name} ${version} is already published with other contents: versions are immutable, train a new one`);
        return { manifest: existing, published: false };
      }
      for (const [f, b] of Object.entries(files)) await objects.put(key(name, version, f), b, 'application/json');
      const m: Manifest = {
        model: name,
        version,
        created: now().toISOString(),
        artefactKey: key(name, version, 'model.json'),
        heldOut: { metric: judge.metric, value, baselines: judge.baselines(metrics) },
        files: hashes,
        metrics,
      };
      await putJson(key(name, version, 'manifest.json'), m);
      options.logger?.info({ model: name, version, [judge.metric]: value }, 'model published');
      return { manifest: m, published: true };
    },

    /** Every published version of a model with its held-out metric, oldest first, and which is active. */
    async versions(model: string) {
      const name = checkModel(model);
      const keys = await objects.list(key(name, ''));
      const found = keys.filter((k) => k.endsWith('/manifest.json')).map((k) => k.slice(key(name, '').length, -'/manifest.json'.length));
      const manifests = (await Promise.all(found.map((v) => manifest(name, v)))).filter((m): m is Manifest => m !== null);
      const s = await state(name);
      return manifests.sort((a, b) => a.created.localeCompare(b.created) || a.version.localeCompare(b.version)).map((m) => ({ ...m, active: m.version === s.active }));
    },

    /**
     * Makes a published version the active one. Refused (RegistryError) when its held-out metric
     * does not beat its baselines or is worse than the active version's; `force` overrides both,
     * with a reason, logged at warn and kept in the audit log. The artefact is checked against its
     * manifest and loaded first: a corrupt one is refused even when forced.
     */
    async activate(model: string, version: string, opts: { force?: boolean; reason?: string } = {}) {
      const name = checkModel(model);
      const m = await requireManifest(name, version);
      await verify(m);
      const s = await state(name);
      if (s.active === version) return { state: s, changed: false };
      const problems: string[] = [];
      const { metric, value, baselines } = m.heldOut;
      for (const [baseline, b] of Object.entries(baselines)) {
        if (!(value > b)) problems.push(`${metric} ${value} does not beat the ${baseline} baseline (${b})`);
      }
      if (s.active) {
        const current = await manifest(name, s.active);
        if (current && value < current.heldOut.value) problems.push(`${metric} ${value} is worse than the active ${s.active}'s ${current.heldOut.value}`);
      }
      if (problems.length && !opts.force) throw new RegistryError(`refused to activate ${name} ${version}: ${problems.join('; ')} (--force with a reason overrides)`);
      if (problems.length && !opts.reason?.trim()) throw new RegistryError(`forcing ${name} ${version} past "${problems.join('; ')}" needs a reason`);
      const next: RegistryState = {
        model: name,
        active: version,
        previous: s.active ? [...s.previous.filter((v) => v !== version), s.active] : s.previous,
        updated: now().toISOString(),
      };
      await putJson(key(name, 'registry.json'), next);
      await audit({
        action: 'activate',
        model: name,
        version,
        from: s.active,
        forced: problems.length > 0,
        reason: opts.reason ?? null,
        by: actor,
        at: next.updated,
        overrode: problems,
      });
      return { state: next, changed: true };
    },

    /** Returns to the version active before the current one (checked as at activation, never compared). */
    async rollback(model: string, opts: { reason?: string } = {}) {
      const name = checkModel(model);
      const s = await state(name);
      const target = s.previous.at(-1);
      if (!s.active || !target) throw new RegistryError(`${name} has no previous version to roll back to`);
      await verify(await requireManifest(name, target));
      const next: RegistryState = { model: name, active: target, previous: s.previous.slice(0, -1), updated: now().toISOString() };
      await putJson(key(name, 'registry.json'), next);
      await audit({ action: 'rollback', model: name, version: target, from: s.active, forced: false, reason: opts.reason ?? null, by: actor, at: next.updated, overrode: [] });
      return { state: next, rolledBack: s.active };
    },

    /** The audit log of a model, oldest first. */
    async audit(model: string): Promise<AuditEntry[]> {
      const name = checkModel(model);
      const keys = await objects.list(key(name, 'audit', ''));
      return (await Promise.all(keys.map((k) => readJson<AuditEntry>(k)))).filter((e): e is AuditEntry => e !== null);
    },

    /** The worker's view: the active version and its files (ModelStore, as the folder store). */
    modelStore(): ModelStore {
      return {
        description: `registry ${objects.description} (${prefix})`,
        async activeVersion(model) {
          return (await state(checkModel(model))).active;
        },
        async read(model, version, file) {
          const bytes = await objects.get(key(checkModel(model), checkVersion(version), file));
          if (!bytes) throw new Error(`${key(model, version, file)} is missing in ${objects.description}`);
          return bytes;
        },
      };
    },
  };
}

/**
 * Publishes every version under an artefacts folder as `ml:train` writes it
 * (`<dir>/<model>/<version>/…`, `<dir>/<model>/ACTIVE`) and, for a model with no active version
 * yet, activates the one ACTIVE names. Idempotent: the launchers call it at every start.
 */
export async function seedRegistry(registry: ModelRegistry, artefactsDir: string, logger?: Logger) {
  const summary: Record<string, { published: string[]; active: string | null }> = {};
  for (const model of MODELS) {
    const dir = path.join(artefactsDir, model);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    const published: string[] = [];
    for (const e of entries) {
      if (!e.isDirectory() || !VERSION.test(e.name)) continue;
      if ((await registry.publish(model, e.name, path.join(dir, e.name))).published) published.push(e.name);
    }
    let s = await registry.state(model);
    if (!s.active) {
      const wanted = (await readFile(path.join(dir, 'ACTIVE'), 'utf8').catch(() => '')).trim();
      if (wanted) s = (await registry.activate(model, wanted)).state;
    }
    summary[model] = { published, active: s.active };
  }
  logger?.info({ registry: registry.description, ...summary }, 'model registry seeded');
  return summary;
}
