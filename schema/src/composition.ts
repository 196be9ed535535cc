import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import YAML from 'yaml';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const supergraphPath = path.join(repoRoot, 'schema/supergraph.graphql');
/** The client-facing API schema (no join__/link__ internals), for codegen and review: written by npm run compose. */
export const apiSchemaPath = path.join(repoRoot, 'schema/api.graphql');

export interface SubgraphEntry {
  name: string;
  url: string;
  file: string;
}

/** Reads supergraph.yaml: the list of subgraphs, their routing URLs and SDL files. */
export async function readSupergraphConfig(configPath = path.join(repoRoot, 'supergraph.yaml')): Promise<SubgraphEntry[]> {
  const config = YAML.parse(await readFile(configPath, 'utf8')) as {
    subgraphs?: Record<string, { routing_url?: string; schema?: { file?: string } }>;
  };
  const entries = Object.entries(config.subgraphs ?? {});
  if (entries.length === 0) throw new Error(`${configPath} lists no subgraphs`);
  return entries.map(([name, entry]) => {
    if (!entry.routing_url || !entry.schema?.file) throw new Error(`${configPath}: subgraph "${name}" needs routing_url and schema.file`);
    return { name, url: entry.routing_url, file: path.resolve(path.dirname(configPath), entry.schema.file) };
  });
}

export type CompositionResult = { ok: true; supergraphSdl: string; hints: string[] } | { ok: false; errors: string[] };

/** Composes the subgraphs' SDL with @apollo/composition; errors come back as readable lines. */
export function compose(subgraphs: { name: string; url: string; sdl: string }[]): CompositionResult {
  const parsed: { name: string; url: string; typeDefs: ReturnType<typeof parse> }[] = [];
  const errors: string[] = [];
  for (const s of subgraphs) {
    try {
      parsed.push({ name: s.name, url: s.url, typeDefs: parse(s.sdl) });
    } catch (error) {
      errors.push(`[${s.name}] SDL does not parse: ${(error as Error).message}`);
    }
  }
  if (errors.length) return { ok: false, errors };
  const result = composeServices(parsed);
  if (result.errors) {
    return { ok: false, errors: result.errors.map((e) => `${(e.extensions?.code as string) ?? 'ERROR'}: ${e.message}`) };
  }
  return { ok: true, supergraphSdl: `${result.supergraphSdl.trim()}\n`, hints: result.hints.map((h) => `${h.definition.code}: ${h.message}`) };
}

export async function composeFromFiles(entries: SubgraphEntry[]): Promise<CompositionResult> {
  const subgraphs = await Promise.all(
    entries.map(async (e) => {
      try {
        return { name: e.name, url: e.url, sdl: await readFile(e.file, 'utf8') };
      } catch {
        throw new Error(`subgraph "${e.name}": cannot read ${path.relative(repoRoot, e.file)} (run npm run schema:print)`);
      }
    }),
  );
  return compose(subgraphs);
}

// Contracts are pure functions of a supergraph: the registry stores them, the gateway may compute them.
export { contractSchemaOf, ContractError, deprecationReason, hasCoordinate, tagsOf, TAG_NAME, type ContractDeprecation, type ContractFilter } from './contracts.js';
export { apiSchemaOf } from './api-schema.js';
