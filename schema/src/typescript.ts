import {
  buildSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLNamedType,
  type GraphQLType,
} from 'graphql';

/**
 * TypeScript types for an API schema (a contract's, for the partner docs page): object and input
 * types and interfaces become interfaces, enums string unions, unions type unions, scalars their
 * JSON form; each field with arguments gets an `<Type><Field>Args` interface. Small on purpose: a
 * partner who wants more runs GraphQL Code Generator on the same SDL.
 */

/** The JSON form of the scalars our graph uses; an unknown custom scalar is `unknown`. */
export const SCALAR_TYPES: Record<string, string> = {
  ID: 'string',
  String: 'string',
  Int: 'number',
  Float: 'number',
  Boolean: 'boolean',
  DateTimeISO: 'string',
  SafeInt: 'number',
  JSONObject: 'Record<string, unknown>',
};

const doc = (description: string | null | undefined, indent = '') =>
  description ? `${indent}/** ${description.replace(/\*\//g, '*\\/').replace(/\n/g, `\n${indent} * `)} */\n` : '';
const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

function ref(type: GraphQLType): string {
  if (isNonNullType(type)) return bare(type.ofType);
  return `${bare(type)} | null`;
}
function bare(type: GraphQLType): string {
  if (isNonNullType(type)) return bare(type.ofType);
  if (isListType(type)) return `Array<${ref(type.ofType)}>`;
  return (type as GraphQLNamedType).name;
}
const inputMember = (f: GraphQLInputField | GraphQLField<unknown, unknown>['args'][number]) =>
  `${doc(f.description, '  ')}  ${f.name}${isNonNullType(f.type) && f.defaultValue === undefined ? '' : '?'}: ${ref(f.type)};\n`;

export function typescriptTypesOf(sdl: string): string {
  const schema = buildSchema(sdl);
  const out: string[] = [];
  const types = Object.values(schema.getTypeMap())
    .filter((t) => !t.name.startsWith('__'))
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const type of types) {
    if (isScalarType(type)) {
      if (['ID', 'String', 'Int', 'Float', 'Boolean'].includes(type.name)) continue;
      out.push(`${doc(type.description)}export type ${type.name} = ${SCALAR_TYPES[type.name] ?? 'unknown'};\n`);
    } else if (isEnumType(type)) {
      out.push(
        `${doc(type.description)}export type ${type.name} = ${type
          .getValues()
          .map((v) => `'${v.name}'`)
          .join(' | ')};\n`,
      );
    } else if (isUnionType(type)) {
      out.push(
        `${doc(type.description)}export type ${type.name} = ${type
          .getTypes()
          .map((t) => t.name)
          .join(' | ')};\n`,
      );
    } else if (isInputObjectType(type)) {
      out.push(`${doc(type.description)}export interface ${type.name} {\n${Object.values(type.getFields()).map(inputMember).join('')}}\n`);
    } else if (isObjectType(type) || isInterfaceType(type)) {
      const fields = Object.values(type.getFields());
      const members = fields.map(
        (f) => `${doc(f.deprecationReason ? `${f.description ?? ''}\n@deprecated ${f.deprecationReason}`.trim() : f.description, '  ')}  ${f.name}: ${ref(f.type)};\n`,
      );
      out.push(`${doc(type.description)}export interface ${type.name} {\n${members.join('')}}\n`);
      for (const f of fields) {
        if (f.args.length) out.push(`export interface ${type.name}${pascal(f.name)}Args {\n${f.args.map(inputMember).join('')}}\n`);
      }
    }
  }
  return `// Generated from the contract's API schema.\n\n${out.join('\n')}`;
}
