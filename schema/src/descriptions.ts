import { apiSchemaOf } from './api-schema.js';
import { buildSchema, isEnumType, isInputObjectType, isInterfaceType, isIntrospectionType, isObjectType, isSpecifiedScalarType } from 'graphql';

export type DescribedKind = 'type' | 'field' | 'argument' | 'enum value';

export interface DescriptionCoverage {
  /** Per kind: how many elements there are and how many carry a description. */
  counts: Record<DescribedKind, { total: number; described: number }>;
  /** Every element without a description, as `kind Coordinate` (e.g. `argument Query.quote(symbol:)`). */
  missing: string[];
}

/**
 * Which types, fields, arguments and enum values of a client-facing API schema (the SDL that
 * `apiSchemaOf` prints: no join__/link__ internals, no `_entities`/`_service`) have no description.
 * Built-in scalars and introspection types are the specification's, so they are not counted.
 */
export function descriptionCoverage(apiSdl: string): DescriptionCoverage {
  const schema = buildSchema(apiSdl);
  const counts: DescriptionCoverage['counts'] = {
    type: { total: 0, described: 0 },
    field: { total: 0, described: 0 },
    argument: { total: 0, described: 0 },
    'enum value': { total: 0, described: 0 },
  };
  const missing: string[] = [];
  const visit = (kind: DescribedKind, description: string | null | undefined, coordinate: string) => {
    counts[kind].total++;
    if (description?.trim()) counts[kind].described++;
    else missing.push(`${kind} ${coordinate}`);
  };
  for (const type of Object.values(schema.getTypeMap()).sort((a, b) => a.name.localeCompare(b.name))) {
    if (isIntrospectionType(type) || isSpecifiedScalarType(type) || isFederationInternal(type.name)) continue;
    visit('type', type.description, type.name);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (isFederationInternal(field.name)) continue;
        visit('field', field.description, `${type.name}.${field.name}`);
        for (const arg of field.args) visit('argument', arg.description, `${type.name}.${field.name}(${arg.name}:)`);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) visit('field', field.description, `${type.name}.${field.name}`);
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) visit('enum value', value.description, `${type.name}.${value.name}`);
    }
  }
  return { counts, missing };
}

/** `_entities`, `_service`, `_Any`, `_Entity`, and the join__/link__ machinery: not for clients. */
function isFederationInternal(name: string): boolean {
  return name.startsWith('_') || name.startsWith('join__') || name.startsWith('link__');
}

/** Every type, field, argument and enum value of the API schema without a description. */
export function undocumented(apiSdl: string): string[] {
  return descriptionCoverage(apiSdl).missing;
}

/** "fields 617/617, arguments 166/166, ..." for messages. */
export function describeCoverage(apiSdl: string): string {
  return Object.entries(descriptionCoverage(apiSdl).counts)
    .map(([kind, { total, described }]) => `${kind === 'enum value' ? 'enum values' : `${kind}s`} ${described}/${total}`)
    .join(', ');
}

/** schema/api.graphql as npm run compose writes it: a header, then the supergraph's API schema. */
export function apiSchemaFile(supergraphSdl: string): string {
  return (
    '# The client-facing API schema of the supergraph: what the gateway serves, without the federation\n' +
    '# internals (join__, link__, @inaccessible). Written by `npm run compose`; use it for codegen.\n' +
    '# `npm run schema:check` fails when it is stale or when anything in it has no description.\n\n' +
    apiSchemaOf(supergraphSdl)
  );
}
