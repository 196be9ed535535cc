import type { ContractCheck, ContractStore } from './contract-store.js';
import type { Client, Pool } from './db.js';
import { transaction } from './db.js';
import { RegistryError, badInput, notFound } from './errors.js';
import { assertParses, assertRoutingUrl, changelog, classify, composeGraph, sha256, type ClassifiedChange } from './graph.js';
import type { UsageStore } from './usage.js';

export interface SubgraphInput {
  name: string;
  sdl: string;
  url: string;
}
export interface Provenance {
  commit?: string;
  author?: string;
}

interface SubgraphVersionRow {
  id: string;
  subgraph: string;
  sdl: string;
  sdl_hash: string;
  routing_url: string;
  commit: string | null;
  author: string | null;
  created_at: Date;
}
interface SchemaVersionRow {
  id: string;
  subgraph_versions: Record<string, string>;
  supergraph_sdl: string;
  supergraph_hash: string;
  api_sdl: string;
  kind: 'publish' | 'rollback';
  changed_subgraphs: string[];
  commit: string | null;
  author: string | null;
  changes: ClassifiedChange[];
  created_at: Date;
}

export interface VersionSummary {
  version: number;
  kind: 'publish' | 'rollback';
  createdAt: string;
  changedSubgraphs: string[];
  commit: string | null;
  author: string | null;
  supergraphHash: string;
  subgraphs: Record<string, number>;
  counts: Record<'BREAKING' | 'DANGEROUS' | 'SAFE', number>;
}

const PUBLISH_LOCK = 'registry-publish';

function summary(row: SchemaVersionRow): VersionSummary {
  const counts = { BREAKING: 0, DANGEROUS: 0, SAFE: 0 };
  for (const c of row.changes) counts[c.level]++;
  return {
    version: Number(row.id),
    kind: row.kind,
    createdAt: row.created_at.toISOString(),
    changedSubgraphs: row.changed_subgraphs,
    commit: row.commit,
    author: row.author,
    supergraphHash: row.supergraph_hash,
    subgraphs: Object.fromEntries(Object.entries(row.subgraph_versions).map(([k, v]) => [k, Number(v)])),
    counts,
  };
}

const cleanText = (value: unknown, field: string) => {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || value.length > 200) throw badInput(field, `"${field}" must be text of at most 200 characters.`);
  return value;
};

/**
 * The registry's rules: which subgraphs exist, immutable subgraph and schema versions, publishing
 * only what composes, checks weighed against recorded usage, rollbacks as new versions. Every new
 * schema version also records each contract's API schema (in the same transaction), and a check
 * weighs each contract's breaking changes against its approved removals.
 */
export function createRegistry(pool: Pool, usage: UsageStore, contracts: ContractStore, options: { checkWindowDays: number }) {
  async function latest(db: Pool | Client = pool): Promise<SchemaVersionRow | undefined> {
    const { rows } = await db.query<SchemaVersionRow>('select * from schema_versions order by id desc limit 1');
    return rows[0];
  }

  async function version(id: unknown, db: Pool | Client = pool): Promise<SchemaVersionRow> {
    const text = String(id ?? '');
    if (text === 'latest' || text === '') {
      const row = await latest(db);
      if (!row) throw notFound('version', 'Nothing has been published yet: publish the subgraphs first (npm run schema -- publish or seed).');
      return row;
    }
    if (!/^\d{1,15}$/.test(text)) throw badInput('version', `"${text}" is not a version: versions are positive whole numbers (see npm run schema -- log), or "latest".`);
    const { rows } = await db.query<SchemaVersionRow>('select * from schema_versions where id = $1', [text]);
    if (!rows[0]) throw notFound('version', `There is no version ${text}: see npm run schema -- log for the versions that exist.`);
    return rows[0];
  }

  async function subgraphVersions(ids: string[], db: Pool | Client = pool) {
    if (ids.length === 0) return new Map<string, SubgraphVersionRow>();
    const { rows } = await db.query<SubgraphVersionRow>('select * from subgraph_versions where id = any($1::bigint[])', [ids]);
    return new Map(rows.map((r) => [r.subgraph, r]));
  }

  async function knownSubgraphs(db: Pool | Client = pool) {
    const { rows } = await db.query<{ name: string }>('select name from subgraphs order by name');
    return rows.map((r) => r.name);
  }

  /** Validates publisher input: known subgraph names, SDL that parses, http(s) routing URLs. */
  async function validate(inputs: unknown, db: Pool | Client): Promise<SubgraphInput[]> {
    if (!Array.isArray(inputs) || inputs.length === 0) throw badInput('subgraphs', 'Send at least one subgraph: { name, sdl, url }.');
    const known = new Set(await knownSubgraphs(db));
    const seen = new Set<string>();
    return inputs.map((raw: Partial<SubgraphInput>) => {
      const name = String(raw?.name ?? '');
      if (!known.has(name)) {
        throw notFound('subgraph', `There is no subgraph named "${name}": the registry knows ${[...known].join(', ') || 'none'}.`);
      }
      if (seen.has(name)) throw badInput('subgraph', `Subgraph "${name}" is listed twice.`);
      seen.add(name);
      assertParses(name, raw.sdl);
      assertRoutingUrl(name, raw.url);
      return { name, sdl: raw.sdl as string, url: raw.url as string };
    });
  }

  /** The subgraphs of the current version with some replaced, ready to compose. */
  async function candidate(current: SchemaVersionRow | undefined, replaced: SubgraphInput[], db: Pool | Client) {
    const rows = await subgraphVersions(Object.values(current?.subgraph_versions ?? {}), db);
    const byName = new Map<string, SubgraphInput>([...rows].map(([name, r]) => [name, { name, sdl: r.sdl, url: r.routing_url }]));
    for (const s of replaced) byName.set(s.name, s);
    return { all: [...byName.values()], rows };
  }

  return {
    knownSubgraphs,

    /** Makes sure these subgraph names exist (start-up, from REGISTRY_SUBGRAPHS). */
    async declareSubgraphs(names: string[]) {
      for (const name of names) await pool.query('insert into subgraphs (name) values ($1) on conflict do nothing', [name]);
    },

    async subgraphs() {
      const current = await latest();
      const rows = await subgraphVersions(Object.values(current?.subgraph_versions ?? {}));
      return (await knownSubgraphs()).map((name) => {
        const r = rows.get(name);
        return { name, version: r ? Number(r.id) : null, url: r?.routing_url ?? null, sdlHash: r?.sdl_hash ?? null, publishedAt: r?.created_at.toISOString() ?? null };
      });
    },

    async subgraphSdl(name: string, versionId?: unknown) {
      if (!(await knownSubgraphs()).includes(name)) throw notFound('subgraph', `There is no subgraph named "${name}".`);
      const v = await version(versionId);
      const row = (await subgraphVersions(Object.values(v.subgraph_versions))).get(name);
      if (!row) throw notFound('subgraph', `Subgraph "${name}" is not part of version ${v.id}.`);
      return { version: Number(v.id), subgraphVersion: Number(row.id), sdl: row.sdl, url: row.routing_url, sdlHash: row.sdl_hash };
    },

    /**
     * Publishes one or more subgraphs at once: composes them with the latest version of every other
     * subgraph; refuses with the composition errors, stores nothing, if it does not compose; changes
     * nothing if every SDL and URL is the one already current.
     */
    async publish(inputs: unknown, provenance: Provenance = {}) {
      const commit = cleanText(provenance.commit, 'commit');
      const author = cleanText(provenance.author, 'author');
      return transaction(
        pool,
        async (db) => {
          const subgraphs = await validate(inputs, db);
          const current = await latest(db);
          const { all, rows } = await candidate(current, [], db);
          const changed = subgraphs.filter((s) => {
            const r = rows.get(s.name);
            return !r || r.sdl_hash !== sha256(s.sdl) || r.routing_url !== s.url;
          });
          if (current && changed.length === 0) {
            return { changed: false as const, version: Number(current.id), supergraphHash: current.supergraph_hash, changes: [] as ClassifiedChange[] };
          }
          const next = new Map(all.map((s) => [s.name, s]));
          for (const s of changed) next.set(s.name, s);
          const composed = composeGraph([...next.values()]);
          if (!composed.ok) {
            throw new RegistryError(
              'COMPOSITION_FAILED',
              `Publishing ${subgraphs.map((s) => `"${s.name}"`).join(', ')} was refused: the graph does not compose. Fix the errors listed in details and publish again.`,
              { details: composed.errors },
            );
          }
          const versions: Record<string, string> = { ...(current?.subgraph_versions ?? {}) };
          for (const s of changed) {
            const { rows: inserted } = await db.query<{ id: string }>(
              'insert into subgraph_versions (subgraph, sdl, sdl_hash, routing_url, commit, author) values ($1, $2, $3, $4, $5, $6) returning id',
              [s.name, s.sdl, sha256(s.sdl), s.url, commit, author],
            );
            versions[s.name] = inserted[0]!.id;
          }
          const changes = await classify(current?.api_sdl ?? null, composed.apiSdl);
          const { rows: created } = await db.query<SchemaVersionRow>(
            `insert into schema_versions (subgraph_versions, supergraph_sdl, supergraph_hash, api_sdl, kind, changed_subgraphs, commit, author, changes)
             values ($1, $2, $3, $4, 'publish', $5, $6, $7, $8) returning *`,
            [
              JSON.stringify(versions),
              composed.supergraphSdl,
              sha256(composed.supergraphSdl),
              composed.apiSdl,
              changed.map((s) => s.name),
              commit,
              author,
              JSON.stringify(changes),
            ],
          );
          const contractVersions = await contracts.afterSchemaVersion(db, created[0]!);
          return {
            changed: true as const,
            version: Number(created[0]!.id),
            supergraphHash: created[0]!.supergraph_hash,
            changes,
            changelog: changelog(changes),
            contracts: contractVersions,
          };
        },
        PUBLISH_LOCK,
      );
    },

    /**
     * What publishing this SDL would do, without storing anything: composition errors, each change
     * classified, and for each breaking change the operations and clients that used the affected
     * coordinates in the window. A breaking change no recorded operation used passes, with a note;
     * one listed in `approved` (by its coordinate) passes too.
     */
    async check(input: unknown, opts: { windowDays?: unknown; approved?: unknown; strict?: unknown } = {}) {
      const windowDays = opts.windowDays === undefined || opts.windowDays === null || opts.windowDays === '' ? options.checkWindowDays : Number(opts.windowDays);
      if (!Number.isInteger(windowDays) || windowDays < 1 || windowDays > 366) throw badInput('windowDays', 'windowDays must be a whole number of days from 1 to 366.');
      const approved = new Set(Array.isArray(opts.approved) ? opts.approved.map(String) : []);
      const current = await latest();
      const raw = (input ?? {}) as Partial<SubgraphInput>;
      const currentRows = await subgraphVersions(Object.values(current?.subgraph_versions ?? {}));
      // The routing URL does not change the schema: without one, the current (or a placeholder) is used.
      const url = raw.url ?? currentRows.get(String(raw.name))?.routing_url ?? 'http://check.invalid/graphql';
      const [subgraph] = await validate([{ ...raw, url }], pool);
      const { all } = await candidate(current, [subgraph!], pool);
      const composed = composeGraph(all);
      if (!composed.ok) {
        return {
          ok: false,
          subgraph: subgraph!.name,
          baseVersion: current ? Number(current.id) : null,
          windowDays,
          compositionErrors: composed.errors,
          changes: [],
          notes: [] as string[],
          contracts: [] as ContractCheck[],
        };
      }
      const changes = await classify(current?.api_sdl ?? null, composed.apiSdl);
      const notes: string[] = [];
      const breaking = changes.filter((c) => c.level === 'BREAKING');
      const usageByPath = await usage.usageOf(
        breaking.map((c) => c.path).filter((p): p is string => !!p),
        windowDays,
      );
      let ok = true;
      const weighed = changes.map((c) => {
        if (c.level !== 'BREAKING') return c;
        const used = (c.path && usageByPath.get(c.path)) || [];
        const isApproved = !!c.path && approved.has(c.path);
        if (isApproved) {
          notes.push(`${c.message}: breaking${used.length ? ' and used' : ''}, but approved.`);
        } else if (opts.strict === true) {
          // Without usage to go by (CI's throwaway registry), every breaking change needs an approval.
          ok = false;
          return { ...c, usage: used, approved: false, verdict: 'UNAPPROVED' };
        } else if (used.length === 0) {
          notes.push(`${c.message}: breaking, but no recorded operation used ${c.path ?? 'it'} in the last ${windowDays} days.`);
        } else {
          ok = false;
        }
        return { ...c, usage: used, approved: isApproved, verdict: isApproved ? 'APPROVED' : used.length === 0 ? 'UNUSED' : 'FAILS' };
      });
      // Partners have no usage to weigh and no release of ours to follow: a breaking change to a
      // contract needs an approved removal whose date has come, whatever the usage says.
      const contractChecks = await contracts.check(composed.supergraphSdl);
      for (const c of contractChecks) notes.push(...c.notes);
      if (contractChecks.some((c) => c.failed)) ok = false;
      return {
        ok,
        subgraph: subgraph!.name,
        baseVersion: current ? Number(current.id) : null,
        windowDays,
        compositionErrors: [] as string[],
        changes: weighed,
        notes,
        contracts: contractChecks,
      };
    },

    /** Makes the graph of an earlier version current again, as a new version (history never changes). */
    async rollback(to: unknown, provenance: Provenance = {}) {
      const commit = cleanText(provenance.commit, 'commit');
      const author = cleanText(provenance.author, 'author');
      return transaction(
        pool,
        async (db) => {
          const target = await version(to, db);
          const current = (await latest(db))!;
          if (current.supergraph_hash === target.supergraph_hash) {
            return { changed: false as const, version: Number(current.id), supergraphHash: current.supergraph_hash, changes: [] as ClassifiedChange[] };
          }
          const changed = [...new Set([...Object.keys(target.subgraph_versions), ...Object.keys(current.subgraph_versions)])].filter(
            (name) => target.subgraph_versions[name] !== current.subgraph_versions[name],
          );
          const changes = await classify(current.api_sdl, target.api_sdl);
          const { rows } = await db.query<SchemaVersionRow>(
            `insert into schema_versions (subgraph_versions, supergraph_sdl, supergraph_hash, api_sdl, kind, changed_subgraphs, commit, author, changes)
             values ($1, $2, $3, $4, 'rollback', $5, $6, $7, $8) returning *`,
            [JSON.stringify(target.subgraph_versions), target.supergraph_sdl, target.supergraph_hash, target.api_sdl, changed, commit, author, JSON.stringify(changes)],
          );
          const contractVersions = await contracts.afterSchemaVersion(db, rows[0]!);
          return {
            changed: true as const,
            version: Number(rows[0]!.id),
            rolledBackTo: Number(target.id),
            contracts: contractVersions,
            supergraphHash: rows[0]!.supergraph_hash,
            changes,
            changelog: changelog(changes),
          };
        },
        PUBLISH_LOCK,
      );
    },

    async log(limit: unknown) {
      const n = limit === undefined || limit === '' ? 20 : Number(limit);
      if (!Number.isInteger(n) || n < 1 || n > 1000) throw badInput('limit', 'limit must be a whole number from 1 to 1000.');
      const { rows } = await pool.query<SchemaVersionRow>('select * from schema_versions order by id desc limit $1', [n]);
      return rows.map(summary);
    },

    async version(id: unknown) {
      const row = await version(id);
      return { ...summary(row), changes: row.changes, changelog: changelog(row.changes) };
    },

    /** The supergraph to serve; the hash is its ETag. */
    async supergraph(id?: unknown) {
      const row = await version(id);
      return { version: Number(row.id), sdl: row.supergraph_sdl, hash: row.supergraph_hash };
    },

    async apiSchema(id?: unknown) {
      const row = await version(id);
      return { version: Number(row.id), sdl: row.api_sdl };
    },

    async diff(from: unknown, to: unknown) {
      const a = await version(from);
      const b = await version(to);
      const changes = await classify(a.api_sdl, b.api_sdl);
      return { from: Number(a.id), to: Number(b.id), changes, changelog: changelog(changes) };
    },
  };
}
export type Registry = ReturnType<typeof createRegistry>;
export type CheckResult = Awaited<ReturnType<Registry['check']>>;
