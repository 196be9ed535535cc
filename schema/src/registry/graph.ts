import { createHash } from 'node:crypto';
import { diff as inspectorDiff, CriticalityLevel, type Change } from '@graphql-inspector/core';
import { buildSchema, GraphQLError, parse } from 'graphql';
import { apiSchemaOf } from '../api-schema.js';
import { compose } from '../composition.js';
import { badInput } from './errors.js';

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Refuses SDL that does not parse, naming the subgraph and the place of the syntax error. */
export function assertParses(subgraph: string, sdl: unknown) {
  if (typeof sdl !== 'string' || sdl.trim() === '') throw badInput('sdl', `The SDL of subgraph "${subgraph}" is empty: send the subgraph's schema text.`);
  try {
    parse(sdl);
  } catch (error) {
    const where = error instanceof GraphQLError && error.locations?.[0] ? ` at line ${error.locations[0].line}, column ${error.locations[0].column}` : '';
    throw badInput('sdl', `The SDL of subgraph "${subgraph}" does not parse${where}: ${error instanceof GraphQLError ? error.message : String(error)}`);
  }
}

/** Refuses a routing URL that is not an absolute http(s) URL. */
export function assertRoutingUrl(subgraph: string, url: unknown) {
  let ok = false;
  try {
    ok = typeof url === 'string' && ['http:', 'https:'].includes(new URL(url).protocol);
  } catch {
    ok = false;
  }
  if (!ok) throw badInput('url', `The routing URL of subgraph "${subgraph}" is "${String(url)}": it must be an absolute http:// or https:// URL.`);
}

export type Composed = { ok: true; supergraphSdl: string; apiSdl: string; hints: string[] } | { ok: false; errors: string[] };

/**
 * Composes the subgraphs and derives the client-facing API schema (no join__/link__ internals,
 * @inaccessible elements removed), printed in a stable order so that diffs compare like with like.
 */
export function composeGraph(subgraphs: { name: string; url: string; sdl: string }[]): Composed {
  const result = compose([...subgraphs].sort((a, b) => a.name.localeCompare(b.name)));
  if (!result.ok) return result;
  return { ok: true, supergraphSdl: result.supergraphSdl, apiSdl: apiSchemaOf(result.supergraphSdl), hints: result.hints };
}

export { apiSchemaOf };

export type Level = 'BREAKING' | 'DANGEROUS' | 'SAFE';
export interface ClassifiedChange {
  level: Level;
  type: string;
  /** The schema coordinate the change is about, dotted: `Type`, `Type.field`, `Type.field.argument`, `Enum.VALUE`. */
  path: string | null;
  message: string;
  reason?: string;
}

const LEVELS: Record<CriticalityLevel, Level> = {
  [CriticalityLevel.Breaking]: 'BREAKING',
  [CriticalityLevel.Dangerous]: 'DANGEROUS',
  [CriticalityLevel.NonBreaking]: 'SAFE',
};

/** Classifies every change between two API schemas with GraphQL Inspector; `null` is the empty graph. */
export async function classify(fromApiSdl: string | null, toApiSdl: string | null): Promise<ClassifiedChange[]> {
  const changes: Change[] = await inspectorDiff(
    fromApiSdl ? buildSchema(fromApiSdl) : buildSchema('type Query { _empty: Boolean }'),
    toApiSdl ? buildSchema(toApiSdl) : buildSchema('type Query { _empty: Boolean }'),
  );
  const order: Record<Level, number> = { BREAKING: 0, DANGEROUS: 1, SAFE: 2 };
  return changes
    .filter((c) => fromApiSdl || c.path !== 'Query._empty')
    .map((c) => ({
      level: LEVELS[c.criticality.level],
      type: c.type,
      path: c.path ?? null,
      message: c.message,
      ...(c.criticality.reason ? { reason: c.criticality.reason } : {}),
    }))
    .sort((a, b) => order[a.level] - order[b.level] || (a.path ?? '').localeCompare(b.path ?? ''));
}

/** A changelog a person reads: one line per change, grouped by level. */
export function changelog(changes: ClassifiedChange[]): string {
  if (changes.length === 0) return 'No change to the API schema.';
  const lines: string[] = [];
  for (const level of ['BREAKING', 'DANGEROUS', 'SAFE'] as const) {
    const of = changes.filter((c) => c.level === level);
    if (of.length) lines.push(`${level} (${of.length}):`, ...of.map((c) => `  - ${c.message}`));
  }
  return lines.join('\n');
}
