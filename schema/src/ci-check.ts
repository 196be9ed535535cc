// npm run schema -- ci-check: what CI runs. Every subgraph whose committed SDL changed since the base
// commit is checked against the registry state the repository records: the subgraph SDL committed
// at the base (the graph stack mode seeds its registry with and deployments publish).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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

/**
 * A removal from a partner contract approved in the repository: recorded in CI's throwaway registry
 * as if approved on `approvedOn`, so it passes the check once `removeAfter` has come, as it would
 * in the live registry.
 */
export interface ContractApproval {
  contract: string;
  coordinate: string;
  reason: string;
  removeAfter: string;
  approvedOn: string;
}

export interface Approvals {
  /** Coordinates of the client-facing API whose breaking change is approved. */
  coordinates: string[];
  contracts: ContractApproval[];
}

/**
 * Approved breaking changes, with a reason each: schema/approved-changes.json. An entry with a
 * `contract` is a deprecation approval for that partner contract (`removeAfter` and `approvedOn`
 * dates); one without is an approval for the whole API.
 */
export async function readApprovals(root: string): Promise<Approvals> {
  const file = path.join(root, 'schema/approved-changes.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return { coordinates: [], contracts: [] };
  }
  type Entry = { coordinate?: string; reason?: string; contract?: string; removeAfter?: string; approvedOn?: string };
  const parsed = JSON.parse(text) as { approved?: Entry[] };
  const approvals: Approvals = { coordinates: [], contracts: [] };
  (parsed.approved ?? []).forEach((a, i) => {
    if (!a.coordinate || !a.reason) throw new Error(`${file}: approved[${i}] needs "coordinate" (e.g. "Article.body") and "reason"`);
    if (a.contract === undefined) return void approvals.coordinates.push(a.coordinate);
    const date = /^\d{4}-\d{2}-\d{2}$/;
    if (!a.removeAfter || !date.test(a.removeAfter) || !a.approvedOn || !date.test(a.approvedOn)) {
      throw new Error(`${file}: approved[${i}] is for contract "${a.contract}": it needs "removeAfter" and "approvedOn" dates (YYYY-MM-DD)`);
    }
    approvals.contracts.push({ contract: a.contract, coordinate: a.coordinate, reason: a.reason, removeAfter: a.removeAfter, approvedOn: a.approvedOn });
  });
  return approvals;
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
  const contractsFile = path.join(options.root, 'schema/contracts.yaml');

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
        // The partner contracts as committed: a change that breaks one fails like one that breaks
        // the API, unless its removal was approved with a deprecation period that has passed.
        ...(existsSync(contractsFile) ? { REGISTRY_CONTRACTS_CONFIG: contractsFile } : {}),
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
    for (const a of approved.contracts) {
      await registry.contracts.deprecate(a.contract, a, 'schema/approved-changes.json', new Date(`${a.approvedOn}T12:00:00Z`));
    }
  }
  try {
    const checked: CiCheckResult['checked'] = [];
    for (const s of changed) {
      // Without a live registry there is no usage to go by: every breaking change needs an approval.
      const result = await client.check({ subgraph: s.name, sdl: s.sdl, url: s.url, approved: approved.coordinates, strict: !options.remote });
      checked.push({ subgraph: s.name, result });
      // One commit may change several subgraphs that only make sense together (a new contract and
      // the tags it needs in three of them): in CI's own registry each one that passed is
      // published, so the next is checked against the commit's schema so far, not the base's.
      // Never against a live registry: a check there must not publish.
      if (result.ok && !options.remote) await client.publish([{ name: s.name, url: s.url, sdl: s.sdl }], { commit: 'candidate', author: 'ci-check' });
    }
    return { ok: checked.every((c) => c.result.ok), base, checked };
  } finally {
    await close();
  }
}
