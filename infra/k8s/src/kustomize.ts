// The part of `kustomize build` that infra/k8s uses, so that npm test can build the overlays with
// nothing installed beyond npm ci (kustomize is not an npm package). manifests.test.ts compares the
// result with `kubectl kustomize` wherever kubectl is installed. Refuses any field it does not know,
// so that a kustomization using more of kustomize fails here instead of being half-built.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

interface Target {
  kind?: string;
  name?: string;
}
interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }[];
  images?: { name: string; newName?: string; newTag?: string }[];
  replicas?: { name: string; count: number }[];
  patches?: { target: Target; patch: string }[];
  generatorOptions?: { disableNameSuffixHash?: boolean };
  configMapGenerator?: { name: string; behavior?: 'create' | 'merge'; literals?: string[] }[];
  secretGenerator?: { name: string; behavior?: 'create' | 'merge'; literals?: string[] }[];
}
const KNOWN = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'labels', 'images', 'replicas', 'patches', 'generatorOptions', 'configMapGenerator', 'secretGenerator']);
/** Kinds that live in no namespace: `namespace:` leaves them alone. */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PriorityClass', 'StorageClass']);
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);

export function readYamlObjects(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((doc) => {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

/** Builds the kustomization in `dir` (a base or an overlay): the objects kustomize would print. */
export function build(dir: string): K8sObject[] {
  const k = readYamlObjects(path.join(dir, 'kustomization.yaml'))[0] as unknown as Kustomization;
  const unknown = Object.keys(k).filter((key) => !KNOWN.has(key));
  if (unknown.length) throw new Error(`${dir}/kustomization.yaml: ${unknown.join(', ')} not supported by infra/k8s/src/kustomize.ts`);
  if (k.generatorOptions && k.generatorOptions.disableNameSuffixHash !== true) throw new Error(`${dir}: only disableNameSuffixHash: true is supported`);
  let objects: K8sObject[] = [];
  for (const resource of k.resources ?? []) {
    const at = path.join(dir, resource);
    objects.push(...(statSync(at).isDirectory() ? build(at) : readYamlObjects(at)));
  }
  const generated = (kind: 'ConfigMap' | 'Secret', generators: Kustomization['configMapGenerator']) => {
    for (const generator of generators ?? []) {
      if (!k.generatorOptions?.disableNameSuffixHash) throw new Error(`${dir}: generators need generatorOptions.disableNameSuffixHash: true here`);
      const values = Object.fromEntries((generator.literals ?? []).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
      const encoded = kind === 'Secret' ? Object.fromEntries(Object.entries(values).map(([key, v]) => [key, Buffer.from(v).toString('base64')])) : values;
      const existing = objects.find((o) => o.kind === kind && o.metadata.name === generator.name);
      if (generator.behavior === 'merge') {
        if (!existing) throw new Error(`${dir}: ${kind} ${generator.name} to merge into does not exist`);
        existing.data = { ...(existing.data as Record<string, string>), ...encoded };
      } else {
        if (existing) throw new Error(`${dir}: ${kind} ${generator.name} exists already`);
        objects.push({ apiVersion: 'v1', kind, metadata: { name: generator.name }, ...(kind === 'Secret' ? { type: 'Opaque' } : {}), data: encoded });
      }
    }
  };
  generated('ConfigMap', k.configMapGenerator);
  generated('Secret', k.secretGenerator);
  for (const { pairs, includeSelectors, includeTemplates } of k.labels ?? []) {
    if (includeSelectors) throw new Error(`${dir}: labels with includeSelectors are not supported`);
    for (const o of objects) {
      o.metadata.labels = { ...o.metadata.labels, ...pairs };
      const template = (o.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template;
      if (includeTemplates && WORKLOADS.has(o.kind) && template) template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, ...pairs } };
    }
  }
  for (const image of k.images ?? []) {
    for (const container of containersOf(objects)) {
      const [name, tag] = splitImage(container.image);
      if (name === image.name) container.image = `${image.newName ?? name}:${image.newTag ?? tag}`;
    }
  }
  for (const { name, count } of k.replicas ?? []) {
    const workload = objects.find((o) => WORKLOADS.has(o.kind) && o.metadata.name === name);
    if (!workload) throw new Error(`${dir}: replicas of ${name}, which is not a workload here`);
    (workload.spec as { replicas?: number }).replicas = count;
  }
  for (const { target, patch } of k.patches ?? []) {
    const matched = objects.filter((o) => (!target.kind || o.kind === target.kind) && (!target.name || o.metadata.name === target.name));
    if (matched.length === 0) throw new Error(`${dir}: a patch matches nothing (${JSON.stringify(target)})`);
    const operations = parseAllDocuments(patch)[0]!.toJS() as JsonPatchOperation[];
    if (!Array.isArray(operations)) throw new Error(`${dir}: only JSON 6902 patches (a list of operations) are supported`);
    objects = objects.map((o) => (matched.includes(o) ? applyJsonPatch(o, operations) : o));
  }
  if (k.namespace) for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  return objects;
}

function containersOf(objects: K8sObject[]): { image: string }[] {
  return objects.flatMap((o) => {
    const pod = (o.spec as { template?: { spec?: { containers?: { image: string }[]; initContainers?: { image: string }[] } } } | undefined)?.template?.spec;
    return [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])];
  });
}

function splitImage(image: string): [string, string] {
  const at = image.lastIndexOf(':');
  return at > image.lastIndexOf('/') ? [image.slice(0, at), image.slice(at + 1)] : [image, 'latest'];
}

export interface JsonPatchOperation {
  op: 'add' | 'replace' | 'remove' | 'test';
  path: string;
  value?: unknown;
}

/** RFC 6902 add, replace, remove and test on a copy of `object`. */
export function applyJsonPatch<T>(object: T, operations: JsonPatchOperation[]): T {
  const copy = structuredClone(object) as unknown;
  for (const { op, path: pointer, value } of operations) {
    const keys = pointer
      .split('/')
      .slice(1)
      .map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop();
    if (last === undefined) throw new Error(`patch path ${pointer}: the whole object cannot be patched`);
    let parent = copy as Record<string, unknown> | unknown[];
    for (const key of keys) {
      const next = (parent as Record<string, unknown>)[key];
      if (next === null || typeof next !== 'object') throw new Error(`patch path ${pointer}: ${key} is missing`);
      parent = next as Record<string, unknown>;
    }
    const record = parent as Record<string, unknown>;
    if (op === 'test') {
      if (JSON.stringify(record[last]) !== JSON.stringify(value)) throw new Error(`patch test ${pointer}: ${JSON.stringify(record[last])} is not ${JSON.stringify(value)}`);
    } else if (op === 'remove' || op === 'replace') {
      if (!(last in record)) throw new Error(`patch ${op} ${pointer}: nothing there`);
      if (op === 'remove') {
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else delete record[last];
      } else {
        record[last] = structuredClone(value);
      }
    } else if (op === 'add') {
      if (Array.isArray(parent)) parent.splice(last === '-' ? parent.length : Number(last), 0, structuredClone(value));
      else record[last] = structuredClone(value);
    } else {
      throw new Error(`patch op ${String(op)} is not supported`);
    }
  }
  return copy as T;
}
