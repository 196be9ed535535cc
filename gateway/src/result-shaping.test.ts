import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  isCompositeType,
  isEnumType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isUnionType,
  operationFromDocument,
  Supergraph,
  type NamedType,
  type Operation,
  type Schema,
  type SelectionSet,
  type Type,
} from '@apollo/federation-internals';
import { compose } from '@analytica/schema';
import { seededRandom } from '@analytica/random';
import { parse, type GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { apolloComputeResponse, computeResponse, type ComputeResponse } from './result-shaping.js';

// Differential test: the gateway's result shaping against Apollo's own (the function it replaces
// in @apollo/gateway) on the same operations and the same merged answers, valid and broken.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');

const apiSchemaOf = (supergraphSdl: string) => Supergraph.build(supergraphSdl).apiSchema();
const operationOf = (schema: Schema, query: string, operationName?: string) => operationFromDocument(schema, parse(query), { operationName });

/** Introspection is answered by the executor's callback: the same stub for both. */
const introspectionHandling = (selection: { element: { responseName(): string } }) => ({ introspected: selection.element.responseName() });

interface Outcome {
  data?: string;
  errors?: { message: string; path: unknown; code: unknown }[];
  thrown?: string;
}

function run(shape: ComputeResponse, operation: Operation, input: unknown, variables?: Record<string, unknown>): Outcome {
  try {
    // Each gets its own copy: shaping must not depend on (or change) the input.
    const { data, errors } = shape({ operation, variables, input: structuredClone(input) as Record<string, unknown>, introspectionHandling: introspectionHandling as never });
    return {
      data: JSON.stringify(data),
      errors: errors.map((e: GraphQLError) => ({ message: e.message, path: e.path, code: e.extensions?.code })),
    };
  } catch (error) {
    return { thrown: (error as Error).message };
  }
}

function expectSame(operation: Operation, input: unknown, variables?: Record<string, unknown>): Outcome {
  const ours = run(computeResponse, operation, input, variables);
  expect(ours).toEqual(run(apolloComputeResponse, operation, input, variables));
  return ours;
}

/**
 * Random merged answers for an operation: every field its selections ask for (whatever fragment
 * they sit in), mostly valid, sometimes null, missing, of the wrong kind, or with an unknown
 * `__typename`, so that null bubbling and every error path are exercised.
 */
function answerFor(schema: Schema, operation: Operation, seed: number, breakage = 0.08) {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const broken = () => random() < breakage;
  const leaf = (type: NamedType): unknown => {
    if (broken()) return pick([null, 'text', 12, 1.5, true, { odd: 1 }]);
    if (isEnumType(type)) return broken() ? 'NOT_A_VALUE' : pick(type.values).name;
    switch (type.name) {
      case 'Int':
        return Math.floor(random() * 1000) - 500;
      case 'Float':
        return random() * 100;
      case 'Boolean':
        return random() < 0.5;
      case 'ID':
        return random() < 0.5 ? String(Math.floor(random() * 100)) : Math.floor(random() * 100);
      default:
        return `v${Math.floor(random() * 1000)}`;
    }
  };
  const fieldsOf = (selectionSets: SelectionSet[]) => {
    const fields = new Map<string, { type: Type; selectionSets: SelectionSet[] }>();
    const visit = (set: SelectionSet) => {
      for (const selection of set.selections()) {
        if (selection.kind === 'FragmentSelection') {
          visit(selection.selectionSet);
          continue;
        }
        const name = selection.element.responseName();
        const entry = fields.get(name) ?? { type: selection.element.definition.type!, selectionSets: [] };
        if (selection.selectionSet) entry.selectionSets.push(selection.selectionSet);
        fields.set(name, entry);
      }
    };
    selectionSets.forEach(visit);
    return fields;
  };
  const value = (type: Type, selectionSets: SelectionSet[], depth: number): unknown => {
    if (isNonNullType(type)) return broken() ? null : value(type.ofType, selectionSets, depth);
    if (random() < breakage / 2) return null;
    if (isListType(type)) {
      if (broken()) return { notAList: true };
      return Array.from({ length: Math.floor(random() * 4) }, () => value(type.ofType, selectionSets, depth + 1));
    }
    if (isCompositeType(type)) {
      if (broken() && random() < 0.3) return 'not an object';
      const object: Record<string, unknown> = {};
      const runtime = isInterfaceType(type) ? pick(type.possibleRuntimeTypes()) : isUnionType(type) ? pick(type.types()) : type;
      if (isInterfaceType(type) || isUnionType(type) || random() < 0.5) object.__typename = broken() ? pick(['Nope', 'Query', 'String']) : runtime.name;
      for (const [name, field] of fieldsOf(selectionSets)) {
        if (name === '__typename' && '__typename' in object) continue;
        if (broken()) continue; // missing: read as null
        object[name] = name === '__typename' ? runtime.name : value(field.type, field.selectionSets, depth + 1);
      }
      return object;
    }
    return leaf(type as NamedType);
  };
  return value(schema.schemaDefinition.rootType(operation.rootKind)!, [operation.selectionSet], 0) as Record<string, unknown>;
}

// A schema with what ours does not have: interfaces, unions, nested lists, a custom scalar, enums.
const fixtureSupergraph = (() => {
  const result = compose([
    {
      name: 'library',
      url: 'http://library',
      sdl: `
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
        scalar JSON
        enum Format { HARDBACK PAPERBACK EBOOK }
        interface Item { id: ID! title: String! }
        type Book implements Item @key(fields: "id") { id: ID! title: String! pages: Int format: Format! authors: [Author!]! grid: [[Int]] }
        type Film implements Item @key(fields: "id") { id: ID! title: String! minutes: Float! rating: Format meta: JSON }
        type Author { name: String! born: Int tags: [String!] }
        union Found = Book | Film | Author
        type Query { items(first: Int): [Item!]! search(text: String!): [Found]! item(id: ID!): Item featured: Item! }
      `,
    },
  ]);
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.supergraphSdl;
})();

const fixtureQueries: { query: string; variables?: Record<string, unknown> }[] = [
  { query: '{ items { id title __typename } }' },
  { query: '{ items { ... on Book { pages format authors { name born tags } grid } ... on Film { minutes rating meta } id } featured { id } }' },
  { query: '{ search(text: "x") { __typename ... on Item { id title } ... on Author { name } ... on Book { title authors { name } } } }' },
  {
    query:
      '{ a: items(first: 1) { t: title kind: __typename } b: items(first: 2) { id } item(id: "1") { ...F } } fragment F on Item { id ... on Book { authors { name } } ... on Book { authors { born } } }',
  },
  {
    query:
      'query Q($withPages: Boolean!, $skipTitle: Boolean = true) { items { id pages: __typename ... on Book @include(if: $withPages) { pages } title @skip(if: $skipTitle) t2: title @include(if: false) t3: title @skip(if: false) } }',
    variables: { withPages: true },
  },
  { query: 'query Q($withPages: Boolean!) { items { ... on Book @include(if: $withPages) { pages } } }', variables: { withPages: false } },
  { query: '{ __typename featured { __typename id } }' },
  // Type conditions inside a fragment on the interface: decided per object of the list, by its __typename.
  { query: '{ items { ...I } } fragment I on Item { ... on Book { pages } ... on Film { minutes } }' },
  { query: '{ __schema { queryType { name } } items { id } __type(name: "Book") { name } }' },
];

describe('result shaping (gateway/src/result-shaping.ts) against Apollo computeResponse', () => {
  it('shapes the federation benchmark answer byte for byte as Apollo does, and so does the published expected result', () => {
    const schema = apiSchemaOf(read('bench/gateway/fixtures/supergraph.graphql'));
    const operation = operationOf(schema, read('bench/gateway/fixtures/query.graphql'));
    const expected = JSON.parse(read('bench/gateway/fixtures/expected-response.json')) as { data: unknown };
    const outcome = expectSame(operation, expected.data);
    expect(outcome.data).toBe(JSON.stringify(expected.data));
    expect(outcome.errors).toEqual([]);
  });

  it('agrees with Apollo on 300 random answers to the benchmark query, valid and broken', () => {
    const schema = apiSchemaOf(read('bench/gateway/fixtures/supergraph.graphql'));
    const operation = operationOf(schema, read('bench/gateway/fixtures/query.graphql'));
    let withErrors = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const outcome = expectSame(operation, answerFor(schema, operation, seed));
      if (outcome.thrown || outcome.errors?.length) withErrors++;
    }
    // The answers do exercise the error paths, not only the happy one.
    expect(withErrors).toBeGreaterThan(100);
  });

  it('agrees with Apollo on interfaces, unions, aliases, repeated fields, @skip/@include, nested lists and introspection', () => {
    const schema = apiSchemaOf(fixtureSupergraph);
    const seen = { nullData: 0, errors: 0, clean: 0 };
    for (const [index, { query, variables }] of fixtureQueries.entries()) {
      const operation = operationOf(schema, query);
      for (let seed = 1; seed <= 150; seed++) {
        const outcome = expectSame(operation, answerFor(schema, operation, seed * 31 + index), variables);
        if (outcome.data === 'null') seen.nullData++;
        if (outcome.errors?.length) seen.errors++;
        else if (!outcome.thrown) seen.clean++;
      }
    }
    expect(seen.nullData).toBeGreaterThan(0);
    expect(seen.errors).toBeGreaterThan(100);
    expect(seen.clean).toBeGreaterThan(100);
  });

  it("agrees with Apollo on the shipped supergraph's operations", () => {
    const schema = apiSchemaOf(read('schema/supergraph.graphql'));
    const queries = [
      'query Me { me { id displayName homeCurrency accounts { id name } watchlist { symbol name } savedArticles(first: 5) { id title } bankAccounts { id } insights { id title } } }',
      'query Quotes($symbols: [String!]!) { quotes(symbols: $symbols) { symbol last changePercent time } }',
      'query Page { me { transactions(first: 100) { edges { cursor node { id amount { amountMinor currency } category { id name } bookedAt payee tags } } pageInfo { hasNextPage endCursor } totalCount } } }',
    ];
    let shaped = 0;
    for (const query of queries) {
      let operation: Operation;
      try {
        operation = operationOf(schema, query);
      } catch (error) {
        throw new Error(`the shipped schema no longer answers: ${query}\n${(error as Error).message}`);
      }
      for (let seed = 1; seed <= 100; seed++) {
        expectSame(operation, answerFor(schema, operation, seed), { symbols: ['AAPL'] });
        shaped++;
      }
    }
    expect(shaped).toBe(300);
  });

  it('returns what it is given when there is no answer at all', () => {
    const schema = apiSchemaOf(fixtureSupergraph);
    const operation = operationOf(schema, '{ items { id } }');
    expect(run(computeResponse, operation, null)).toEqual(run(apolloComputeResponse, operation, null));
    expect(run(computeResponse, operation, undefined)).toEqual({ data: undefined, errors: [] });
  });
});
