// Issue 17, acceptance 4: the Kubernetes manifests (infra/k8s) build for each overlay and every
// object validates against the Kubernetes API schemas (kubernetes-models: the OpenAPI schemas
// compiled into validators, installed by npm ci; nothing is downloaded), and they say what the
// issue asks: probes, resources, autoscaling, disruption budgets, subgraphs reachable only from
// the gateway, secrets only by reference in production.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { applyJsonPatch, build, type K8sObject } from './kustomize.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OVERLAYS = ['local', 'production'] as const;
const SUBGRAPHS = ['user', 'budget', 'market', 'news', 'payment', 'insight'];
/** Workers that must run as one pod (news-ingest polls the sources): no autoscaler. */
const SINGLETONS = ['news-ingest'];

type Container = {
  name: string;
  image: string;
  ports: { name: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string } }[];
  livenessProbe?: { httpGet?: { path: string; port: string } };
  readinessProbe?: { httpGet?: { path: string; port: string } };
  resources?: { requests?: { cpu?: string; memory?: string } };
};
type Workload = K8sObject & {
  spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[] } } };
};

/** The kubernetes-models class of an object's apiVersion and kind (`apps/v1` Deployment, `v1` Service, ...). */
async function modelOf(object: K8sObject): Promise<{ validate(): void }> {
  const module = (await import(`kubernetes-models/${object.apiVersion}`)) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = module[object.kind];
  if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  return new Model(object);
}

const kubectl = (() => {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.each(OVERLAYS)('infra/k8s/overlays/%s', (overlay) => {
  const objects = build(path.join(root, 'overlays', overlay));
  const of = <T extends K8sObject = K8sObject>(kind: string) => objects.filter((o) => o.kind === kind) as T[];
  const workloads = of<Workload>('Deployment');

  it('every object validates against the Kubernetes schema of its kind', async () => {
    expect(objects.length).toBeGreaterThan(50);
    const problems: string[] = [];
    for (const object of objects) {
      try {
        (await modelOf(object)).validate();
      } catch (error) {
        problems.push(`${object.kind} ${object.metadata.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the schema check does catch a broken manifest (a port that is not a number, a missing selector)', async () => {
    const broken = applyJsonPatch(workloads[0]!, [{ op: 'replace', path: '/spec/template/spec/containers/0/ports/0/containerPort', value: 'http' }]);
    await expect(modelOf(broken).then((m) => m.validate())).rejects.toThrow(/containerPort/);
    const noSelector = applyJsonPatch(workloads[0]!, [{ op: 'remove', path: '/spec/selector' }]);
    await expect(modelOf(noSelector).then((m) => m.validate())).rejects.toThrow(/selector/);
  });

  it.skipIf(!kubectl)('builds as kubectl kustomize builds it', () => {
    const printed = execFileSync('kubectl', ['kustomize', path.join(root, 'overlays', overlay)], { encoding: 'utf8' });
    const theirs = parseAllDocuments(printed).map((d) => d.toJS() as K8sObject);
    const key = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
    // kubectl folds long base64 values over lines.
    const unfolded = (o: K8sObject) =>
      o.kind === 'Secret' ? { ...o, data: Object.fromEntries(Object.entries(o.data as Record<string, string>).map(([k, v]) => [k, v.replace(/\s/g, '')])) } : o;
    expect(new Map(objects.map((o) => [key(o), unfolded(o)]))).toEqual(new Map(theirs.map((o) => [key(o), unfolded(o)])));
  });

  it('each workload: probes on /health and /ready, resource requests, its Service, HPA and PodDisruptionBudget', () => {
    expect(workloads.map((w) => w.metadata.name)).toEqual(expect.arrayContaining(['gateway', ...SUBGRAPHS, 'registry', 'payments-worker']));
    for (const w of workloads) {
      const name = w.metadata.name;
      const [container] = w.spec.template.spec.containers;
      expect(container!.livenessProbe?.httpGet?.path, name).toBe('/health');
      expect(container!.readinessProbe?.httpGet?.path, name).toBe('/ready');
      expect(container!.resources?.requests?.cpu, name).toBeTruthy();
      expect(container!.resources?.requests?.memory, name).toBeTruthy();
      const port = Number(container!.env?.find((e) => e.name === 'PORT')?.value);
      expect(container!.ports.find((p) => p.name === 'http')?.containerPort, name).toBe(port);
      expect(container!.envFrom?.[0]?.configMapRef?.name, name).toBe('analytica-config');
      // The selectors of the Service and the budget reach this workload's pods.
      const labels = w.spec.template.metadata.labels;
      const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
      const service = of<K8sObject & { spec: { selector: Record<string, string> } }>('Service').find((s) => s.metadata.name === name);
      expect(service && selects(service.spec.selector), `Service ${name}`).toBe(true);
      const pdb = of<K8sObject & { spec: { selector: { matchLabels: Record<string, string> } } }>('PodDisruptionBudget').find((p) => p.metadata.name === name);
      expect(pdb && selects(pdb.spec.selector.matchLabels), `PodDisruptionBudget ${name}`).toBe(true);
      const hpa = of<K8sObject & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number } }>('HorizontalPodAutoscaler').find(
        (h) => h.metadata.name === name,
      );
      if (SINGLETONS.includes(name)) {
        expect(hpa, `${name} runs as one pod`).toBeUndefined();
        continue;
      }
      expect(hpa?.spec.scaleTargetRef, `HPA ${name}`).toMatchObject({ kind: 'Deployment', name });
      expect(hpa!.spec.maxReplicas).toBeGreaterThanOrEqual(hpa!.spec.minReplicas);
    }
  });

  it('the gateway scales on CPU and on open subscription connections', () => {
    const hpa = of<K8sObject & { spec: { metrics: { type: string; resource?: { name: string }; pods?: { metric: { name: string } } }[] } }>('HorizontalPodAutoscaler').find(
      (h) => h.metadata.name === 'gateway',
    )!;
    expect(hpa.spec.metrics.map((m) => m.resource?.name ?? m.pods?.metric.name)).toEqual(['cpu', 'subscription_connections']);
  });

  it('subgraphs are reachable only from the gateway; everything else is denied by default', () => {
    const policies = of<
      K8sObject & {
        spec: {
          podSelector: { matchLabels?: Record<string, string> };
          ingress?: { from?: { podSelector?: { matchLabels: Record<string, string> } }[]; ports?: { port: number }[] }[];
        };
      }
    >('NetworkPolicy');
    expect(policies.find((p) => p.metadata.name === 'default-deny-ingress')?.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress'] });
    const subgraphs = policies.find((p) => p.metadata.name === 'subgraphs-from-gateway')!;
    expect(subgraphs.spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/component': 'subgraph' });
    expect(subgraphs.spec.ingress).toHaveLength(1);
    expect(subgraphs.spec.ingress![0]!.from).toEqual([{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'gateway' } } }]);
    for (const name of SUBGRAPHS) {
      const w = workloads.find((d) => d.metadata.name === name)!;
      expect(w.spec.template.metadata.labels['app.kubernetes.io/component'], name).toBe('subgraph');
      expect(subgraphs.spec.ingress![0]!.ports!.map((p) => p.port)).toContain(w.spec.template.spec.containers[0]!.ports[0]!.containerPort);
      // Each subgraph gets the key the gateway signs with.
      expect(w.spec.template.spec.containers[0]!.env?.find((e) => e.name === 'SUBGRAPH_SIGNING_KEY')?.valueFrom?.secretKeyRef?.key, name).toBe('subgraph-signing-key');
    }
    // No policy other than the user service's JWKS opens a subgraph to anything but the gateway.
    for (const p of policies.filter((q) => !['subgraphs-from-gateway', 'user-jwks-from-services', 'metrics-from-monitoring', 'default-deny-ingress'].includes(q.metadata.name))) {
      expect(p.spec.podSelector.matchLabels?.['app.kubernetes.io/component'], p.metadata.name).not.toBe('subgraph');
      expect(SUBGRAPHS, p.metadata.name).not.toContain(p.spec.podSelector.matchLabels?.['app.kubernetes.io/name']);
    }
  });

  it('the Kafka, PostgreSQL and Redis endpoints are configuration; secrets are referenced by name and key', () => {
    const config = of<K8sObject & { data: Record<string, string> }>('ConfigMap').find((c) => c.metadata.name === 'analytica-config')!;
    for (const key of ['KAFKA_BROKERS', 'REDIS_URL', 'DYNAMODB_ENDPOINT', 'JWKS_URL', 'SUBGRAPH_USER_URL']) expect(config.data[key], key).toBeTruthy();
    expect(config.data.NODE_ENV).toBe('production');
    expect(Object.keys(config.data).filter((key) => /SECRET|PASSWORD|KEY$|TOKEN|DATABASE_URL/.test(key))).toEqual([]);
    for (const w of workloads) {
      for (const e of w.spec.template.spec.containers[0]!.env ?? []) {
        if (/SECRET|KEY|TOKEN|DATABASE_URL/.test(e.name)) expect(e.valueFrom?.secretKeyRef, `${w.metadata.name} ${e.name}`).toBeTruthy();
      }
    }
    if (overlay === 'production') {
      expect(of('Secret')).toEqual([]);
      expect(objects.every((o) => o.metadata.namespace === 'analytica')).toBe(true);
      expect(workloads.filter((w) => !SINGLETONS.includes(w.metadata.name) && w.spec.replicas < 2).map((w) => w.metadata.name)).toEqual([]);
      expect(workloads.every((w) => w.spec.template.spec.containers[0]!.image.startsWith('ghcr.io/analytica/'))).toBe(true);
      expect(of('Ingress')).toHaveLength(1);
    }
  });
});
