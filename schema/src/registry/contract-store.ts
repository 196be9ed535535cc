import { readFile } from 'node:fs/promises';
import { buildSchema, GraphQLError, parse, validate, type GraphQLSchema } from 'graphql';
import YAML from 'yaml';
import { CONTRACT_NAME } from '@analytica/auth';
import { ContractError, contractSchemaOf, hasCoordinate, TAG_NAME, type ContractDeprecation } from '../contracts.js';
import type { Client, Pool } from './db.js';
import { transaction } from './db.js';
import { RegistryError, badInput, notFound } from './errors.js';
import { changelog, classify, sha256, type ClassifiedChange } from './graph.js';

/**
 * Contracts (issue 12, docs/partners.md section 2): their definitions, the API schema each has at
 * each schema version with its changelog, approved removals, and partner apps' trusted documents.
 */

export interface ContractDefinition {
  name: string;
  description: string;
  include: string[];
  exclude: string[];
}
interface ContractRow {
  name: string;
  description: string;
  include_tags: string[];
  exclude_tags: string[];
  created_at: Date;
  updated_at: Date;
}
interface ContractVersionRow {
  id: string;
  contract: string;
  schema_version: string;
  api_schema: string;
  hash: string;
  changes: ClassifiedChange[];
  created_at: Date;
}
interface DeprecationRow {
  contract: string;
  coordinate: string;
  reason: string;
  remove_after: string; // selected as text: YYYY-MM-DD, no time zone games
  approved_by: string;
  created_at: Date;
}
/** What a schema version holds that contracts need. */
export interface SchemaVersionRef {
  id: string;
  supergraph_sdl: string;
}

/** One contract in a check: its changes (breaking ones with a verdict) and whether they fail the check. */
export interface ContractCheck {
  name: string;
  /** The contract version the changes are from (null: the contract has none yet). */
  baseVersion: number | null;
  failed: boolean;
  /** Set when the candidate graph gives the contract no valid schema (e.g. no Query field left). */
  error?: string;
  changes: (ClassifiedChange & { verdict?: 'APPROVED' | 'NOT_YET_DUE' | 'UNAPPROVED'; removeAfter?: string })[];
  notes: string[];
}

const MAX_TAGS = 50;
export const MAX_MANIFEST_OPERATIONS = 1000;
const MAX_DOCUMENT_LENGTH = 100_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Today in UTC, as YYYY-MM-DD: removal dates are calendar dates, compared as text. */
export const todayUtc = (now = new Date()) => now.toISOString().slice(0, 10);

/** Validates one contract definition (from contracts.yaml or PUT /api/contracts/:name). */
export function validateDefinition(name: unknown, body: unknown, where = ''): ContractDefinition {
  const raw = (body ?? {}) as { description?: unknown; include?: unknown; exclude?: unknown };
  const at = where ? `${where}: ` : '';
  if (typeof name !== 'string' || !CONTRACT_NAME.test(name)) {
    throw badInput('name', `${at}"${String(name)}" is not a contract name: 2 to 63 lower-case letters, digits or "-", starting with a letter.`);
  }
  if (raw.description !== undefined && raw.description !== null && (typeof raw.description !== 'string' || raw.description.length > 500)) {
    throw badInput('description', `${at}the description of contract "${name}" must be text of at most 500 characters.`);
  }
  const tags = (field: 'include' | 'exclude') => {
    const list = raw[field] ?? [];
    if (!Array.isArray(list) || list.length > MAX_TAGS || !list.every((t) => typeof t === 'string' && TAG_NAME.test(t))) {
      throw badInput(field, `${at}"${field}" of contract "${name}" must be a list of at most ${MAX_TAGS} tag names (letters, digits, "-" and "/").`);
    }
    return [...new Set(list as string[])].sort();
  };
  const include = tags('include');
  const exclude = tags('exclude');
  const both = include.filter((t) => exclude.includes(t));
  if (both.length) throw badInput('exclude', `${at}contract "${name}" both includes and excludes ${both.map((t) => `"${t}"`).join(', ')}.`);
  if (include.length === 0 && exclude.length === 0) throw badInput('include', `${at}contract "${name}" names no tag: it would be the whole API schema.`);
  return { name, description: (raw.description as string | undefined) ?? '', include, exclude };
}

/** Reads and validates contracts.yaml; any problem is an Error naming the file. */
export async function readContractsConfig(file: string): Promise<ContractDefinition[]> {
  let parsed: { contracts?: unknown };
  try {
    parsed = (YAML.parse(await readFile(file, 'utf8')) ?? {}) as { contracts?: unknown };
  } catch (error) {
    throw new Error(`${file} cannot be read as YAML: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed.contracts)) throw new Error(`${file} needs a "contracts" list: - name, description, include: [...], exclude: [...]`);
  const seen = new Set<string>();
  return parsed.contracts.map((entry: { name?: unknown }, i) => {
    try {
      const def = validateDefinition(entry?.name, entry, `${file} contracts[${i}]`);
      if (seen.has(def.name)) throw new Error(`${file}: contract "${def.name}" is listed twice`);
      seen.add(def.name);
      return def;
    } catch (error) {
      throw error instanceof RegistryError ? new Error(error.message) : error;
    }
  });
}

const definitionOf = (row: ContractRow): ContractDefinition => ({ name: row.name, description: row.description, include: row.include_tags, exclude: row.exclude_tags });
const asDeprecation = (row: DeprecationRow): ContractDeprecation => ({ coordinate: row.coordinate, reason: row.reason, removeAfter: row.remove_after });

/** The approval that covers a changed coordinate: its own, or one of an element it lies under (`Type` covers `Type.field`). */
function approvalFor(path: string | null, approvals: DeprecationRow[]): DeprecationRow | undefined {
  if (!path) return undefined;
  return approvals.filter((a) => path === a.coordinate || path.startsWith(`${a.coordinate}.`)).sort((a, b) => b.coordinate.length - a.coordinate.length)[0];
}

export function createContractStore(pool: Pool) {
  async function contractRow(name: string, db: Pool | Client = pool): Promise<ContractRow> {
    const { rows } = await db.query<ContractRow>('select * from contracts where name = $1', [name]);
    if (!rows[0]) throw notFound('contract', `There is no contract named "${name}": see GET /api/contracts.`);
    return rows[0];
  }
  async function allContracts(db: Pool | Client = pool) {
    return (await db.query<ContractRow>('select * from contracts order by name')).rows;
  }
  async function deprecationsOf(name: string, db: Pool | Client = pool) {
    const { rows } = await db.query<DeprecationRow>(
      'select contract, coordinate, reason, remove_after::text as remove_after, approved_by, created_at from contract_deprecations where contract = $1 order by coordinate',
      [name],
    );
    return rows;
  }
  async function latestVersion(name: string, db: Pool | Client = pool): Promise<ContractVersionRow | undefined> {
    const { rows } = await db.query<ContractVersionRow>('select * from contract_versions where contract = $1 order by id desc limit 1', [name]);
    return rows[0];
  }
  async function latestSchemaVersion(db: Pool | Client): Promise<SchemaVersionRef | undefined> {
    const { rows } = await db.query<SchemaVersionRef>('select id, supergraph_sdl from schema_versions order by id desc limit 1');
    return rows[0];
  }

  /**
   * Computes a contract's API schema at a schema version and stores it as a new contract version
   * when it differs from the contract's latest, with the classified changes. Call inside the
   * transaction that made the schema version (or changed the contract).
   */
  async function record(db: Client, row: ContractRow, schemaVersion: SchemaVersionRef) {
    const sdl = contractSchemaOf(schemaVersion.supergraph_sdl, definitionOf(row), (await deprecationsOf(row.name, db)).map(asDeprecation));
    const previous = await latestVersion(row.name, db);
    const hash = sha256(sdl);
    if (previous?.hash === hash) return { name: row.name, changed: false as const, version: Number(previous.id), changes: [] as ClassifiedChange[] };
    const changes = await classify(previous?.api_schema ?? null, sdl);
    const { rows } = await db.query<{ id: string }>(
      'insert into contract_versions (contract, schema_version, api_schema, hash, changes) values ($1, $2, $3, $4, $5) returning id',
      [row.name, schemaVersion.id, sdl, hash, JSON.stringify(changes)],
    );
    return { name: row.name, changed: true as const, version: Number(rows[0]!.id), changes };
  }

  /** Upserts a definition and computes its version at the current schema (if any); a contract that gives no valid schema is refused. */
  async function define(def: ContractDefinition, db: Client) {
    const { rows } = await db.query<ContractRow & { inserted: boolean }>(
      `insert into contracts (name, description, include_tags, exclude_tags) values ($1, $2, $3, $4)
       on conflict (name) do update set description = excluded.description, include_tags = excluded.include_tags, exclude_tags = excluded.exclude_tags,
         updated_at = case when (contracts.description, contracts.include_tags, contracts.exclude_tags) is distinct from (excluded.description, excluded.include_tags, excluded.exclude_tags)
                      then now() else contracts.updated_at end
       returning *, (xmax = 0) as inserted`,
      [def.name, def.description, def.include, def.exclude],
    );
    const row = rows[0]!;
    const current = await latestSchemaVersion(db);
    let version: Awaited<ReturnType<typeof record>> | null = null;
    if (current) {
      try {
        version = await record(db, row, current);
      } catch (error) {
        if (error instanceof ContractError) throw badInput('include', `${error.message} (at schema version ${current.id})`);
        throw error;
      }
    }
    return { created: row.inserted, contract: summary(row, version ? { id: String(version.version) } : undefined), changes: version?.changes ?? [] };
  }

  const summary = (row: ContractRow, latest?: { id: string; schema_version?: string; created_at?: Date }) => ({
    name: row.name,
    description: row.description,
    include: row.include_tags,
    exclude: row.exclude_tags,
    version: latest ? Number(latest.id) : null,
    schemaVersion: latest?.schema_version ? Number(latest.schema_version) : undefined,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  });

  /** The contract a partner's token names, with its current API schema. */
  async function current(name: string) {
    await contractRow(name);
    const latest = await latestVersion(name);
    if (!latest) throw notFound('contract', `Contract "${name}" has no API schema yet: nothing has been published.`);
    return latest;
  }

  return {
    /** At start (REGISTRY_CONTRACTS_CONFIG): each contract of the file created or updated, in one transaction. */
    async seed(defs: ContractDefinition[]) {
      return transaction(
        pool,
        async (db) => {
          const results = [];
          for (const def of defs) results.push({ name: def.name, ...(await define(def, db)) });
          return results;
        },
        'registry-publish',
      );
    },

    /** PUT /api/contracts/:name */
    async put(name: unknown, body: unknown) {
      const def = validateDefinition(name, body);
      return transaction(pool, (db) => define(def, db), 'registry-publish');
    },

    async list() {
      const rows = await allContracts();
      return {
        contracts: await Promise.all(
          rows.map(async (row) => ({
            ...summary(row, await latestVersion(row.name)),
            deprecations: (await deprecationsOf(row.name)).map((d) => ({
              coordinate: d.coordinate,
              reason: d.reason,
              removeAfter: d.remove_after,
              approvedBy: d.approved_by,
              approvedAt: d.created_at.toISOString(),
            })),
          })),
        ),
      };
    },

    /** Every contract's current API schema, for the gateway; the hash is the ETag. */
    async schemas() {
      const { rows } = await pool.query<ContractVersionRow>(
        `select distinct on (v.contract) v.* from contract_versions v join contracts c on c.name = v.contract order by v.contract, v.id desc`,
      );
      const contracts = rows.map((r) => ({ name: r.contract, version: Number(r.id), schemaVersion: Number(r.schema_version), hash: r.hash, sdl: r.api_schema }));
      return { contracts, hash: sha256(contracts.map((c) => `${c.name}:${c.hash}`).join('\n')) };
    },

    current,

    /** A contract's changelog: its versions, newest first, each with the classified changes from the one before. */
    async changelog(name: string, limit?: unknown) {
      await contractRow(name);
      const n = limit === undefined || limit === '' ? 50 : Number(limit);
      if (!Number.isInteger(n) || n < 1 || n > 1000) throw badInput('limit', 'limit must be a whole number from 1 to 1000.');
      const { rows } = await pool.query<ContractVersionRow>('select * from contract_versions where contract = $1 order by id desc limit $2', [name, n]);
      return {
        contract: name,
        versions: rows.map((r) => ({
          version: Number(r.id),
          schemaVersion: Number(r.schema_version),
          createdAt: r.created_at.toISOString(),
          changes: r.changes,
          changelog: changelog(r.changes),
        })),
      };
    },

    /**
     * Every contract's new version after a new schema version, in the same transaction. A contract
     * that gives no valid schema any more keeps its last version: the publish is not refused for it
     * (the check reports it as failed), and the result names the problem.
     */
    async afterSchemaVersion(db: Client, schemaVersion: SchemaVersionRef) {
      const results: { name: string; changed: boolean; version: number | null; changes: ClassifiedChange[]; error?: string }[] = [];
      for (const row of await allContracts(db)) {
        try {
          results.push(await record(db, row, schemaVersion));
        } catch (error) {
          if (!(error instanceof ContractError)) throw error;
          results.push({ name: row.name, changed: false, version: null, changes: [], error: error.message });
        }
      }
      return results;
    },

    /**
     * The check of a candidate supergraph against every contract: each contract's changes, and
     * whether a breaking one fails. A breaking change passes only with an approved removal of that
     * coordinate (or one it lies under) whose date has come.
     */
    async check(candidateSupergraph: string, now = new Date()): Promise<ContractCheck[]> {
      const today = todayUtc(now);
      const results: ContractCheck[] = [];
      for (const row of await allContracts()) {
        const approvals = await deprecationsOf(row.name);
        const base = await latestVersion(row.name);
        let sdl: string;
        try {
          sdl = contractSchemaOf(candidateSupergraph, definitionOf(row), approvals.map(asDeprecation));
        } catch (error) {
          if (!(error instanceof ContractError)) throw error;
          results.push({ name: row.name, baseVersion: base ? Number(base.id) : null, failed: true, error: error.message, changes: [], notes: [error.message] });
          continue;
        }
        const notes: string[] = [];
        let failed = false;
        const changes = (await classify(base?.api_schema ?? null, sdl)).map((c): ContractCheck['changes'][number] => {
          if (c.level !== 'BREAKING') return c;
          const approval = approvalFor(c.path, approvals);
          if (approval && approval.remove_after <= today) {
            notes.push(`${row.name}: ${c.message}: breaking, but its removal was approved for ${approval.remove_after} (${approval.reason}).`);
            return { ...c, verdict: 'APPROVED', removeAfter: approval.remove_after };
          }
          failed = true;
          if (approval) {
            notes.push(`${row.name}: ${c.message}: breaking for partners; its removal is approved only on or after ${approval.remove_after}, not before.`);
            return { ...c, verdict: 'NOT_YET_DUE', removeAfter: approval.remove_after };
          }
          notes.push(
            `${row.name}: ${c.message}: breaking for partners. Approve its removal first (POST /api/contracts/${row.name}/deprecations with coordinate "${c.path ?? '?'}", reason, removeAfter) and remove it after that date.`,
          );
          return { ...c, verdict: 'UNAPPROVED' };
        });
        results.push({ name: row.name, baseVersion: base ? Number(base.id) : null, failed, changes, notes });
      }
      return results;
    },

    /** POST /api/contracts/:name/deprecations: approves removing a coordinate of the contract on or after a date. */
    async deprecate(name: string, body: unknown, approvedBy: string, now = new Date()) {
      const raw = (body ?? {}) as { coordinate?: unknown; reason?: unknown; removeAfter?: unknown };
      const coordinate = raw.coordinate;
      if (typeof coordinate !== 'string' || !/^[_A-Za-z][_0-9A-Za-z]*(\.[_A-Za-z][_0-9A-Za-z]*){0,2}$/.test(coordinate)) {
        throw badInput('coordinate', 'coordinate is a schema coordinate: Type, Type.field, Type.field.argument, Enum.VALUE or Input.field.');
      }
      if (typeof raw.reason !== 'string' || raw.reason.trim() === '' || raw.reason.length > 500) {
        throw badInput('reason', 'reason is text of 1 to 500 characters: what partners should use instead.');
      }
      const removeAfter = raw.removeAfter;
      if (
        typeof removeAfter !== 'string' ||
        !ISO_DATE.test(removeAfter) ||
        Number.isNaN(Date.parse(`${removeAfter}T00:00:00Z`)) ||
        todayUtc(new Date(`${removeAfter}T00:00:00Z`)) !== removeAfter
      ) {
        throw badInput('removeAfter', `removeAfter "${String(removeAfter)}" is not a date: give YYYY-MM-DD.`);
      }
      if (removeAfter <= todayUtc(now)) throw badInput('removeAfter', `removeAfter ${removeAfter} is not in the future: give partners time, a date after ${todayUtc(now)}.`);
      return transaction(
        pool,
        async (db) => {
          const row = await contractRow(name, db);
          const latest = await latestVersion(name, db);
          if (!latest || !hasCoordinate(latest.api_schema, coordinate)) {
            throw badInput('coordinate', `Contract "${name}" has no "${coordinate}" in its current API schema (GET /api/contracts/schemas).`);
          }
          await db.query(
            `insert into contract_deprecations (contract, coordinate, reason, remove_after, approved_by) values ($1, $2, $3, $4, $5)
             on conflict (contract, coordinate) do update set reason = excluded.reason, remove_after = excluded.remove_after, approved_by = excluded.approved_by, created_at = now()`,
            [name, coordinate, raw.reason, removeAfter, approvedBy],
          );
          // The contract schema now marks the coordinate deprecated: a new contract version, in its changelog.
          const schemaVersion = await latestSchemaVersion(db);
          const version = schemaVersion ? await record(db, row, schemaVersion) : null;
          return { contract: name, coordinate, reason: raw.reason as string, removeAfter, approvedBy, version: version?.version ?? null };
        },
        'registry-publish',
      );
    },

    /** GET /api/apps/:appId/documents/:hash, for the gateway. */
    async document(appId: string, hash: string) {
      if (!UUID.test(appId) || !/^[0-9a-f]{64}$/.test(hash)) throw notFound('document', `App ${appId} has no trusted document ${hash}.`);
      const { rows } = await pool.query<{ document: string; contract: string }>('select document, contract from app_documents where app_id = $1 and hash = $2', [appId, hash]);
      if (!rows[0]) throw notFound('document', `App ${appId} has no trusted document ${hash}.`);
      return { appId, hash, document: rows[0].document, contract: rows[0].contract };
    },

    /**
     * PUT /api/partner/manifest: the app's trusted documents. Every hash must be the SHA-256 (hex) of
     * its document's exact text, and every document must parse and validate against the contract;
     * one failure refuses the whole manifest and nothing is stored.
     */
    async storeManifest(appId: string, contract: string, body: unknown) {
      const operations = (body as { operations?: unknown } | null)?.operations;
      if (!operations || typeof operations !== 'object' || Array.isArray(operations)) {
        throw badInput('operations', 'A manifest is { operations: { "<sha256 hex of the document>": "<document>" } }.');
      }
      const entries = Object.entries(operations as Record<string, unknown>);
      if (entries.length === 0) throw badInput('operations', 'The manifest lists no operation.');
      if (entries.length > MAX_MANIFEST_OPERATIONS) throw badInput('operations', `A manifest holds at most ${MAX_MANIFEST_OPERATIONS} operations; this one has ${entries.length}.`);
      const latest = await current(contract);
      const schema: GraphQLSchema = buildSchema(latest.api_schema);
      for (const [hash, document] of entries) {
        const refuse = (why: string) => badInput(`operations.${hash}`, `Operation ${hash}: ${why} Nothing of the manifest was stored.`);
        if (typeof document !== 'string' || document.length === 0 || document.length > MAX_DOCUMENT_LENGTH)
          throw refuse(`the document must be text of 1 to ${MAX_DOCUMENT_LENGTH} characters.`);
        if (!/^[0-9a-f]{64}$/.test(hash) || sha256(document) !== hash)
          throw refuse(`the key must be the SHA-256 (lower-case hex) of the document's exact text; it is ${sha256(document)}.`);
        let ast;
        try {
          ast = parse(document);
        } catch (error) {
          throw refuse(`the document does not parse: ${error instanceof GraphQLError ? error.message : String(error)}`);
        }
        const errors = validate(schema, ast);
        if (errors.length) throw refuse(`the document is not valid against contract "${contract}": ${errors.map((e) => e.message).join(' ')}`);
      }
      return transaction(pool, async (db) => {
        let stored = 0;
        for (const [hash, document] of entries) {
          const { rowCount } = await db.query('insert into app_documents (app_id, hash, document, contract) values ($1, $2, $3, $4) on conflict (app_id, hash) do nothing', [
            appId,
            hash,
            document,
            contract,
          ]);
          stored += rowCount ?? 0;
        }
        return { appId, contract, operations: entries.length, stored, unchanged: entries.length - stored };
      });
    },
  };
}
export type ContractStore = ReturnType<typeof createContractStore>;
