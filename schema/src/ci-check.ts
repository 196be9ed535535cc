// npm run schema -- ci-check: what CI runs. Every subgraph whose committed SDL changed since the base
// commit is checked against the registry state the repository records: the subgraph SDL committed
// at the base (the graph stack mode seeds its registry with and deployments publish).
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { readSupergraphConfig } from './composition.js';
import { registryClient, type RegistryClient } from './registry/client.js';
import { parseRegistryEnv } from './registry/environment.js';
import { startRegistry } from './registry/index.js';
import type { CheckResult } from './registry/registry.js';

export interface CiCheckOptions {
  /** The repository's root (supergraph.yaml, schema/subgraphs/, schema/approved-changes.json). */
  root: string;
  /** The commit whose SDL is the registry state; HEAD~1 when not given. */
  base?: string;
  databaseUrl: string;
  /**
   * A live registry (with the gateway's usage) to check against instead of a throwaway one: then a
   * breaking change that no recorded operation used passes, as it would on that deployment.
   */
  remote?: { url: string; token: string };
  log: (line: string) => void;
}

export interface CiCheckResult {
  ok: boolean;
  base: string | null;
  checked: { subgraph: string; result: CheckResult }[];
}

/** Approved breaking changes, by schema coordinate, with a reason each: schema/approved-changes.json. */
export async function readApprovals(root: string): Promise<string[]> {
  const file = path.join(root, 'schema/approved-changes.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const parsed = JSON.parse(text) as { approved?: { coordinate?: string; reason?: string }[] };
  return (parsed.approved ?? []).map((a, i) => {
    if (!a.coordinate || !a.reason) throw new Error(`${file}: approved[${i}] needs "coordinate" (e.g. "Article.body") and "reason"`);
    return a.coordinate;
  });
}

export async function ciCheck(options: CiCheckOptions): Promise<CiCheckResult> {
  const git = (...args: string[]) => execFileSync('git', ['-C', options.root, ...args], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  let base: string;
  try {
    base = git('rev-parse', '--verify', '--quiet', `${options.base ?? 'HEAD~1'}^{commit}`).trim();
  } catch {
    options.log(`No base commit (${options.base ?? 'HEAD~1'}) to compare with: nothing to check.`);
    return { ok: true, base: null, checked: [] };
  }
  const entries = await readSupergraphConfig(path.join(options.root, 'supergraph.yaml'));
  const atBase = (file: string) => {
    try {
      return git('show', `${base}:${path.relative(options.root, file).split(path.sep).join('/')}`);
    } catch {
      return undefined; // a subgraph the base did not have
    }
  };
  const subgraphs = await Promise.all(entries.map(async (e) => ({ ...e, sdl: await readFile(e.file, 'utf8'), baseSdl: atBase(e.file) })));
  const changed = subgraphs.filter((s) => s.sdl !== s.baseSdl);
  if (changed.length === 0) {
    options.log(`No subgraph SDL changed since ${base.slice(0, 10)}.`);
    return { ok: true, base, checked: [] };
  }
  const approved = await readApprovals(options.root);

  let client: RegistryClient;
  let close = async () => {};
  if (options.remote) {
    client = registryClient(options.remote.url, options.remote.token);
  } else {
    const schema = `registry_ci_${Date.now().toString(36)}_${process.pid}`;
    const token = `ci-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}-token`;
    const registry = await startRegistry(
      parseRegistryEnv({
        DATABASE_URL: options.databaseUrl,
        DATABASE_SCHEMA: schema,
        REGISTRY_ADMIN_TOKEN: token,
        PORT: '0',
        LOG_LEVEL: 'warn',
        REGISTRY_SUBGRAPHS: entries.map((e) => e.name).join(','),
      }),
    );
    close = async () => {
      await registry.stop();
      const db = new pg.Client({ connectionString: options.databaseUrl });
      await db.connect();
      await db.query(`drop schema if exists "${schema}" cascade`).finally(() => db.end());
    };
    client = registryClient(registry.url, token);
    const recorded = subgraphs.filter((s) => s.baseSdl !== undefined).map((s) => ({ name: s.name, url: s.url, sdl: s.baseSdl! }));
    if (recorded.length) await client.publish(recorded, { commit: base, author: 'ci-check' });
  }
  try {
    const checked: CiCheckResult['checked'] = [];
    for (const s of changed) {
      // Without a live registry there is no usage to go by: every breaking change needs an approval.
      const result = await client.check({ subgraph: s.name, sdl: s.sdl, url: s.url, approved, strict: !options.remote });
      checked.push({ subgraph: s.name, result });
    }
    return { ok: checked.every((c) => c.result.ok), base, checked };
  } finally {
    await close();
  }
}
