import {
  buildASTSchema,
  Kind,
  parse,
  printSchema,
  validateSchema,
  type ConstDirectiveNode,
  type DefinitionNode,
  type DirectiveNode,
  type DocumentNode,
  type EnumValueDefinitionNode,
  type FieldDefinitionNode,
  type InputValueDefinitionNode,
  type StringValueNode,
  type TypeDefinitionNode,
  type TypeNode,
} from 'graphql';
import { apiSchemaOf } from './api-schema.js';

/**
 * Contracts: filtered API schemas for partners, with the rules of Apollo GraphOS contracts. The
 * subgraphs mark elements with `@tag(name: ...)`; composition carries the tags into the supergraph;
 * a contract names the tags it includes and the tags it excludes.
 *
 * - With a non-empty include list, an object or interface field is in the contract only if it or its
 *   type carries an included tag (a tagged type brings all its fields), and a union only if it is
 *   tagged. Root types (Query, Mutation, Subscription) follow the same rule: `type Query` itself is
 *   never tagged, so each root field a contract offers is tagged on its own.
 * - An excluded tag always wins: on a type it removes the type (and so every field that returns it),
 *   on a field, argument, enum value or input field it removes that element.
 * - Then what no longer makes sense goes, until nothing changes: fields whose type went, arguments
 *   and input fields whose type went (a required argument takes its field with it, a required input
 *   field its input type), types left without fields, values or members, and every type no root
 *   field can reach.
 *
 * Enum, input object and scalar types are not filtered by the include list (as in GraphOS): they
 * stay while a field that is in the contract uses them.
 */

export interface ContractFilter {
  /** Used in error messages only. */
  name?: string;
  include: readonly string[];
  exclude: readonly string[];
}

/** An approved removal: the element stays, marked deprecated, until its date. */
export interface ContractDeprecation {
  /** `Type`, `Type.field`, `Type.field.argument`, `Enum.VALUE` or `Input.field`. */
  coordinate: string;
  reason: string;
  /** YYYY-MM-DD */
  removeAfter: string;
}

/** A contract that cannot give a valid schema (no Query field left, or an invalid result). */
export class ContractError extends Error {
  constructor(
    readonly contract: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ContractError';
  }
}

/** Tag names as GraphOS allows them: letters, digits, "-" and "/", at most 128 characters. */
export const TAG_NAME = /^[A-Za-z0-9/-]{1,128}$/;

/** The text the contract schema carries for an approved removal. */
export function deprecationReason(d: Pick<ContractDeprecation, 'reason' | 'removeAfter'>): string {
  const reason = d.reason.trim();
  return `${reason}${/[.!?]$/.test(reason) ? '' : '.'} Removal on or after ${d.removeAfter}.`;
}

const namedType = (type: TypeNode): string => (type.kind === Kind.NAMED_TYPE ? type.name.value : namedType(type.type));
/** A required argument or input field: non-null without a default, so a client cannot leave it out. */
const isRequired = (value: InputValueDefinitionNode) => value.type.kind === Kind.NON_NULL_TYPE && !value.defaultValue;

/**
 * The `@tag` applications of a supergraph by schema coordinate. The supergraph may import the tag
 * spec under another name (`@link(url: ".../tag/v0.3", as: "label")`), so the name comes from the link.
 */
export function tagsOf(supergraph: DocumentNode): Map<string, Set<string>> {
  let tagDirective = 'tag';
  for (const def of supergraph.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of def.directives ?? []) {
      if (link.name.value !== 'link') continue;
      const arg = (name: string) => link.arguments?.find((a) => a.name.value === name)?.value;
      const url = arg('url');
      const as = arg('as');
      if (url?.kind === Kind.STRING && /\/tag\/v[\d.]+$/.test(url.value) && as?.kind === Kind.STRING) tagDirective = as.value;
    }
  }
  const tags = new Map<string, Set<string>>();
  const collect = (coordinate: string, directives: readonly DirectiveNode[] | undefined) => {
    for (const d of directives ?? []) {
      if (d.name.value !== tagDirective) continue;
      const name = d.arguments?.find((a) => a.name.value === 'name')?.value;
      if (name?.kind !== Kind.STRING) continue;
      const set = tags.get(coordinate) ?? new Set<string>();
      set.add(name.value);
      tags.set(coordinate, set);
    }
  };
  for (const def of supergraph.definitions) {
    if (!('name' in def) || !def.name || def.kind === Kind.DIRECTIVE_DEFINITION) continue;
    const type = def.name.value;
    collect(type, 'directives' in def ? def.directives : undefined);
    if ('fields' in def) {
      for (const field of def.fields ?? []) {
        collect(`${type}.${field.name.value}`, field.directives);
        for (const arg of 'arguments' in field ? (field.arguments ?? []) : []) collect(`${type}.${field.name.value}.${arg.name.value}`, arg.directives);
      }
    }
    if ('values' in def) for (const value of def.values ?? []) collect(`${type}.${value.name.value}`, value.directives);
  }
  return tags;
}

type Named = TypeDefinitionNode;

/**
 * The API schema SDL of a contract: the supergraph's API schema filtered by the contract's tags,
 * with each approved removal marked `@deprecated(reason: "<reason> Removal on or after <date>.")`
 * (a type, or a required argument or input field, cannot carry @deprecated: the note goes into its
 * description instead). Throws ContractError when nothing of Query is left or the result is invalid.
 */
export function contractSchemaOf(supergraphSdl: string, filter: ContractFilter, deprecations: readonly ContractDeprecation[] = []): string {
  const label = filter.name ? `Contract "${filter.name}"` : 'The contract';
  for (const tag of [...filter.include, ...filter.exclude]) {
    if (!TAG_NAME.test(tag)) throw new ContractError(filter.name, `${label} names the tag "${tag}": tags are letters, digits, "-" and "/" (at most 128).`);
  }
  const tags = tagsOf(parse(supergraphSdl));
  const api = parse(apiSchemaOf(supergraphSdl));
  const include = new Set(filter.include);
  const exclude = new Set(filter.exclude);
  const tagged = (coordinate: string, set: Set<string>) => [...(tags.get(coordinate) ?? [])].some((t) => set.has(t));

  const types = new Map<string, Named>();
  for (const def of api.definitions) if (isTypeDefinition(def)) types.set(def.name.value, def);
  const schemaDef = api.definitions.find((d) => d.kind === Kind.SCHEMA_DEFINITION);
  const roots = new Map<string, string>(
    schemaDef?.kind === Kind.SCHEMA_DEFINITION
      ? schemaDef.operationTypes.map((o) => [o.operation, o.type.name.value])
      : (['query', 'mutation', 'subscription'] as const).map((op) => [op, op[0]!.toUpperCase() + op.slice(1)]),
  );

  const removed = new Set<string>(); // coordinates: types, fields, arguments, enum values, input fields
  const gone = (coordinate: string) => removed.has(coordinate);
  const fieldsOf = (t: Named) => (t.kind === Kind.OBJECT_TYPE_DEFINITION || t.kind === Kind.INTERFACE_TYPE_DEFINITION ? (t.fields ?? []) : []);

  // 1. The tags themselves.
  for (const [name, t] of types) {
    if (tagged(name, exclude)) removed.add(name);
    if (t.kind === Kind.OBJECT_TYPE_DEFINITION || t.kind === Kind.INTERFACE_TYPE_DEFINITION) {
      const typeIncluded = tagged(name, include);
      for (const field of t.fields ?? []) {
        const at = `${name}.${field.name.value}`;
        if (tagged(at, exclude) || (include.size > 0 && !typeIncluded && !tagged(at, include))) removed.add(at);
        for (const arg of field.arguments ?? []) {
          if (!tagged(`${at}.${arg.name.value}`, exclude)) continue;
          removed.add(`${at}.${arg.name.value}`);
          if (isRequired(arg)) removed.add(at);
        }
      }
    } else if (t.kind === Kind.UNION_TYPE_DEFINITION) {
      if (include.size > 0 && !tagged(name, include)) removed.add(name);
    } else if (t.kind === Kind.ENUM_TYPE_DEFINITION) {
      for (const value of t.values ?? []) if (tagged(`${name}.${value.name.value}`, exclude)) removed.add(`${name}.${value.name.value}`);
    } else if (t.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION) {
      for (const field of t.fields ?? []) {
        if (!tagged(`${name}.${field.name.value}`, exclude)) continue;
        removed.add(`${name}.${field.name.value}`);
        if (isRequired(field)) removed.add(name);
      }
    }
  }

  // 2. What no longer makes sense, until nothing changes.
  const remove = (coordinate: string) => {
    if (removed.has(coordinate)) return false;
    removed.add(coordinate);
    return true;
  };
  // Built-in scalars are never in `types` and never go.
  const typeGone = (type: TypeNode) => gone(namedType(type));
  const implementers = (iface: string) =>
    [...types.values()].filter((t) => (t.kind === Kind.OBJECT_TYPE_DEFINITION || t.kind === Kind.INTERFACE_TYPE_DEFINITION) && t.interfaces?.some((i) => i.name.value === iface));
  for (let changed = true; changed;) {
    changed = false;
    for (const [name, t] of types) {
      if (gone(name)) continue;
      if (t.kind === Kind.OBJECT_TYPE_DEFINITION || t.kind === Kind.INTERFACE_TYPE_DEFINITION) {
        for (const field of t.fields ?? []) {
          const at = `${name}.${field.name.value}`;
          if (gone(at)) continue;
          if (typeGone(field.type)) changed = remove(at) || changed;
          for (const arg of field.arguments ?? []) {
            const argAt = `${at}.${arg.name.value}`;
            if (gone(argAt) || !typeGone(arg.type)) continue;
            changed = remove(argAt) || changed;
            if (isRequired(arg)) changed = remove(at) || changed;
          }
        }
        if (t.kind === Kind.INTERFACE_TYPE_DEFINITION) {
          // An interface field every kept implementation no longer has would make the schema invalid.
          for (const field of t.fields ?? []) {
            const at = `${name}.${field.name.value}`;
            if (!gone(at) && implementers(name).some((o) => !gone(o.name.value) && gone(`${o.name.value}.${field.name.value}`))) changed = remove(at) || changed;
          }
        }
        if ((t.fields ?? []).every((f) => gone(`${name}.${f.name.value}`))) changed = remove(name) || changed;
      } else if (t.kind === Kind.UNION_TYPE_DEFINITION) {
        if ((t.types ?? []).every((m) => gone(m.name.value))) changed = remove(name) || changed;
      } else if (t.kind === Kind.ENUM_TYPE_DEFINITION) {
        if ((t.values ?? []).every((v) => gone(`${name}.${v.name.value}`))) changed = remove(name) || changed;
      } else if (t.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION) {
        for (const field of t.fields ?? []) {
          const at = `${name}.${field.name.value}`;
          if (gone(at) || !typeGone(field.type)) continue;
          changed = remove(at) || changed;
          if (isRequired(field)) changed = remove(name) || changed;
        }
        if ((t.fields ?? []).every((f) => gone(`${name}.${f.name.value}`))) changed = remove(name) || changed;
      }
    }
  }

  const queryType = roots.get('query') ?? 'Query';
  if (gone(queryType) || !types.has(queryType)) {
    throw new ContractError(
      filter.name,
      `${label} has no Query field: no root field carries an included tag (${[...include].join(', ') || 'none'}) without an excluded one (${[...exclude].join(', ') || 'none'}). Tag at least one Query field.`,
    );
  }

  // 3. Only what a root field reaches (an interface reaches its implementations: they can be returned).
  const reached = new Set<string>();
  const visit = (name: string) => {
    if (reached.has(name) || gone(name) || !types.has(name)) return;
    reached.add(name);
    const t = types.get(name)!;
    for (const field of fieldsOf(t)) {
      if (gone(`${name}.${field.name.value}`)) continue;
      visit(namedType(field.type));
      for (const arg of field.arguments ?? []) if (!gone(`${name}.${field.name.value}.${arg.name.value}`)) visit(namedType(arg.type));
    }
    if (t.kind === Kind.OBJECT_TYPE_DEFINITION || t.kind === Kind.INTERFACE_TYPE_DEFINITION) for (const i of t.interfaces ?? []) visit(i.name.value);
    if (t.kind === Kind.INTERFACE_TYPE_DEFINITION) for (const o of implementers(name)) visit(o.name.value);
    if (t.kind === Kind.UNION_TYPE_DEFINITION) for (const m of t.types ?? []) visit(m.name.value);
    if (t.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION) for (const f of t.fields ?? []) if (!gone(`${name}.${f.name.value}`)) visit(namedType(f.type));
  };
  for (const root of roots.values()) visit(root);
  for (const def of api.definitions) {
    if (def.kind === Kind.DIRECTIVE_DEFINITION) for (const arg of def.arguments ?? []) visit(namedType(arg.type));
  }
  for (const name of types.keys()) if (!reached.has(name)) removed.add(name);

  // 4. The filtered document, with the approved removals marked.
  const marks = new Map(deprecations.map((d) => [d.coordinate, deprecationReason(d)]));
  const definitions: DefinitionNode[] = [];
  for (const def of api.definitions) {
    if (def.kind === Kind.SCHEMA_DEFINITION) {
      const operationTypes = def.operationTypes.filter((o) => !gone(o.type.name.value));
      definitions.push({ ...def, operationTypes });
      continue;
    }
    if (!isTypeDefinition(def)) {
      definitions.push(def);
      continue;
    }
    const name = def.name.value;
    if (gone(name)) continue;
    definitions.push(filtered(def, gone, marks));
  }
  const document: DocumentNode = { kind: Kind.DOCUMENT, definitions };
  let schema;
  try {
    schema = buildASTSchema(document);
  } catch (error) {
    throw new ContractError(filter.name, `${label} does not give a valid schema: ${(error as Error).message}`);
  }
  const errors = validateSchema(schema);
  if (errors.length) throw new ContractError(filter.name, `${label} does not give a valid schema: ${errors.map((e) => e.message).join('; ')}`);
  return `${printSchema(schema).trim()}\n`;
}

function isTypeDefinition(def: DefinitionNode): def is Named {
  return (
    def.kind === Kind.OBJECT_TYPE_DEFINITION ||
    def.kind === Kind.INTERFACE_TYPE_DEFINITION ||
    def.kind === Kind.UNION_TYPE_DEFINITION ||
    def.kind === Kind.ENUM_TYPE_DEFINITION ||
    def.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION ||
    def.kind === Kind.SCALAR_TYPE_DEFINITION
  );
}

const deprecated = (reason: string): ConstDirectiveNode => ({
  kind: Kind.DIRECTIVE,
  name: { kind: Kind.NAME, value: 'deprecated' },
  arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'reason' }, value: { kind: Kind.STRING, value: reason } }],
});

/** The description with a removal note after it, for elements that cannot carry @deprecated. */
const noted = (description: StringValueNode | undefined, reason: string): StringValueNode => ({
  kind: Kind.STRING,
  value: description?.value ? `${description.value}\n\nDeprecated: ${reason}` : `Deprecated: ${reason}`,
  block: true,
});

/** Marks a field, enum value or optional argument/input field deprecated (replacing an earlier reason). */
function mark<T extends FieldDefinitionNode | EnumValueDefinitionNode | InputValueDefinitionNode>(node: T, reason: string | undefined): T {
  if (reason === undefined) return node;
  if (node.kind === Kind.INPUT_VALUE_DEFINITION && isRequired(node)) return { ...node, description: noted(node.description, reason) };
  return { ...node, directives: [...(node.directives ?? []).filter((d) => d.name.value !== 'deprecated'), deprecated(reason)] };
}

function filtered(def: Named, gone: (coordinate: string) => boolean, marks: Map<string, string>): Named {
  const name = def.name.value;
  const typeNote = marks.get(name);
  const description = typeNote === undefined ? def.description : noted(def.description, typeNote);
  switch (def.kind) {
    case Kind.OBJECT_TYPE_DEFINITION:
    case Kind.INTERFACE_TYPE_DEFINITION:
      return {
        ...def,
        description,
        interfaces: def.interfaces?.filter((i) => !gone(i.name.value)),
        fields: def.fields
          ?.filter((f) => !gone(`${name}.${f.name.value}`))
          .map((f) =>
            mark(
              {
                ...f,
                arguments: f.arguments?.filter((a) => !gone(`${name}.${f.name.value}.${a.name.value}`)).map((a) => mark(a, marks.get(`${name}.${f.name.value}.${a.name.value}`))),
              },
              marks.get(`${name}.${f.name.value}`),
            ),
          ),
      };
    case Kind.UNION_TYPE_DEFINITION:
      return { ...def, description, types: def.types?.filter((m) => !gone(m.name.value)) };
    case Kind.ENUM_TYPE_DEFINITION:
      return { ...def, description, values: def.values?.filter((v) => !gone(`${name}.${v.name.value}`)).map((v) => mark(v, marks.get(`${name}.${v.name.value}`))) };
    case Kind.INPUT_OBJECT_TYPE_DEFINITION:
      return { ...def, description, fields: def.fields?.filter((f) => !gone(`${name}.${f.name.value}`)).map((f) => mark(f, marks.get(`${name}.${f.name.value}`))) };
    default:
      return { ...def, description };
  }
}

/**
 * Whether a schema coordinate (`Type`, `Type.field`, `Type.field.argument`, `Enum.VALUE`,
 * `Input.field`) names an element of this SDL: what an approval may be about.
 */
export function hasCoordinate(sdl: string, coordinate: string): boolean {
  const [typeName, member, argument, ...more] = coordinate.split('.');
  if (!typeName || more.length) return false;
  const def = parse(sdl).definitions.find((d): d is Named => isTypeDefinition(d) && d.name.value === typeName);
  if (!def) return false;
  if (member === undefined) return true;
  if (def.kind === Kind.ENUM_TYPE_DEFINITION) return argument === undefined && !!def.values?.some((v) => v.name.value === member);
  if (def.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION) return argument === undefined && !!def.fields?.some((f) => f.name.value === member);
  if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.INTERFACE_TYPE_DEFINITION) return false;
  const field = def.fields?.find((f) => f.name.value === member);
  if (!field) return false;
  return argument === undefined || !!field.arguments?.some((a) => a.name.value === argument);
}
