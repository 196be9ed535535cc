// Every service and worker that ships as an image: one workspace each, bundled by build.mjs to
// `<dir>/dist/main.js`, assembled by infra/docker/file-set.mjs, started by `npm run images:check`.
// `assets` are files or folders (paths from the repository root) the service reads at run time
// beside the `data/` folder of every workspace bundled into it, which file-set.mjs adds by itself.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** @typedef {{ name: string, dir: string, entry: string, port: number, assets: string[] }} Service */

/** @type {Service[]} */
export const SERVICES = [
  // The gateway's fallback supergraph (SUPERGRAPH_PATH, from the repository root) when the registry is away.
  { name: 'gateway', dir: 'gateway', entry: 'src/main.ts', port: 4000, assets: ['schema/supergraph.graphql'] },
  { name: 'user', dir: 'subgraphs/user', entry: 'src/main.ts', port: 4001, assets: [] },
  { name: 'budget', dir: 'subgraphs/budget', entry: 'src/main.ts', port: 4002, assets: [] },
  { name: 'market', dir: 'subgraphs/market', entry: 'src/main.ts', port: 4003, assets: [] },
  { name: 'news', dir: 'subgraphs/news', entry: 'src/main.ts', port: 4004, assets: [] },
  { name: 'payment', dir: 'subgraphs/payment', entry: 'src/main.ts', port: 4005, assets: [] },
  { name: 'insight', dir: 'subgraphs/insight', entry: 'src/main.ts', port: 4006, assets: [] },
  // The schema registry; REGISTRY_SEED_CONFIG=/app/supergraph.yaml and REGISTRY_CONTRACTS_CONFIG=/app/schema/contracts.yaml in the image.
  { name: 'registry', dir: 'schema', entry: 'src/registry/main.ts', port: 4030, assets: ['supergraph.yaml', 'schema/subgraphs', 'schema/contracts.yaml'] },
  { name: 'market-ingest', dir: 'workers/market-ingest', entry: 'src/main.ts', port: 4011, assets: [] },
  { name: 'market-feed', dir: 'infra/simulators/market-feed', entry: 'src/main.ts', port: 4012, assets: [] },
  { name: 'bank-simulator', dir: 'infra/simulators/bank', entry: 'src/main.ts', port: 4020, assets: [] },
  { name: 'payments-worker', dir: 'workers/payments', entry: 'src/main.ts', port: 4021, assets: [] },
  { name: 'notifications-worker', dir: 'workers/notifications', entry: 'src/main.ts', port: 4022, assets: [] },
  // The committed models it serves (MODEL_DIR defaults to ml/artefacts from the repository root).
  { name: 'inference-worker', dir: 'workers/inference', entry: 'src/main.ts', port: 4023, assets: ['ml/artefacts'] },
  { name: 'news-sources', dir: 'infra/simulators/news-sources', entry: 'src/main.ts', port: 4026, assets: [] },
  { name: 'news-ingest', dir: 'workers/news-ingest', entry: 'src/main.ts', port: 4027, assets: [] },
  // Tails the services' log files into the central log store (docs/OBSERVABILITY.md).
  { name: 'log-shipper', dir: 'workers/log-shipper', entry: 'src/main.ts', port: 4029, assets: [] },
  // The mail catcher: caught mail over HTTP on PORT (8025), SMTP on SMTP_PORT (1025).
  { name: 'smtp-catcher', dir: 'infra/smtp', entry: 'src/main.ts', port: 8025, assets: [] },
];

/** A service by its name or its workspace folder (`user` or `subgraphs/user`). */
export function serviceOf(nameOrDir) {
  const wanted = nameOrDir.replace(/\/+$/, '');
  const service = SERVICES.find((s) => s.name === wanted || s.dir === wanted);
  if (!service) throw new Error(`no service "${nameOrDir}": one of ${SERVICES.map((s) => s.name).join(', ')} (or its folder)`);
  return service;
}

/** The root package.json's workspaces as folders from the root (`subgraphs/user`, `packages/auth`, ...). */
export function workspaceDirs() {
  const { workspaces } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  return workspaces.flatMap((pattern) => {
    const dirs = pattern.endsWith('/*')
      ? readdirSync(path.join(repoRoot, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => `${pattern.slice(0, -2)}/${entry.name}`)
      : [pattern];
    return dirs.filter((dir) => existsSync(path.join(repoRoot, dir, 'package.json')));
  });
}

/** Workspaces with a service entry that SERVICES does not list: each must ship, so this is a build error. */
export function unlistedEntries() {
  return workspaceDirs().filter((dir) => existsSync(path.join(repoRoot, dir, 'src/main.ts')) && !SERVICES.some((s) => s.dir === dir));
}
